"""Fixtures for the contract unit tests: role accounts and fresh deployments on ape's local:test
network (py-evm). Each test runs in its own chain snapshot (ape's isolation), so state never leaks.
"""

import pytest

ADMIN_DELAY = 2 * 24 * 3600  # seconds before a new bank admin may accept (two-step transfer)


@pytest.fixture(scope="session")
def bank(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def debtor(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def supplier(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def merchant(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def oracle(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def stranger(accounts):
    """Holds no role anywhere: every guarded call from it must fail."""
    return accounts[8]


@pytest.fixture(scope="session")
def auditor(accounts):
    return accounts[9]


@pytest.fixture(scope="session")
def token(project, bank):
    return bank.deploy(project.SettlementToken, bank)


@pytest.fixture(scope="session")
def registry(project, bank):
    return bank.deploy(project.ParticipantRegistry, bank, ADMIN_DELAY)


@pytest.fixture(scope="session")
def roles(registry):
    """The business role bits, read from the contract so tests and contract cannot drift apart."""
    names = ["BANK", "CORE_ENTERPRISE", "SUPPLIER", "MERCHANT", "LESSEE", "CREDIT_ORACLE", "IOT_ORACLE"]
    return {name: getattr(registry, f"ROLE_{name}")() for name in names}


# --- receivables financing -------------------------------------------------------------------

UNIT = 10**6  # settlement token units per DCNY
DAY = 24 * 3600
GRACE = 15 * DAY


@pytest.fixture(scope="session")
def supplier2(accounts):
    """A tier-2 supplier (supplies `supplier`)."""
    return accounts[5]


@pytest.fixture(scope="session")
def supplier3(accounts):
    """A tier-3 supplier."""
    return accounts[6]


@pytest.fixture(scope="session")
def pool(project, bank, token):
    return bank.deploy(project.FinancingPool, token, bank, ADMIN_DELAY)


@pytest.fixture(scope="module")
def receivables(project, bank, registry, token, pool, debtor, supplier, supplier2, supplier3, roles):
    """Receivables wired as `yinqi deploy` wires it, with a core enterprise and three supplier tiers
    onboarded, the pool funded and the debtor given terms. Module-scoped: ape's isolation reverts what
    it did to the shared token, registry and pool when the module ends, so other modules see them fresh."""
    contract = bank.deploy(project.Receivables, registry, token, pool, bank, ADMIN_DELAY, GRACE)
    pool.grantRole(pool.LENDER_ROLE(), contract, sender=bank)
    registry.onboard(debtor, roles["CORE_ENTERPRISE"], b"\x01" * 32, "core", sender=bank)
    for i, s in enumerate((supplier, supplier2, supplier3)):
        registry.onboard(s, roles["SUPPLIER"], bytes([i + 2]) * 32, f"tier-{i + 1}", sender=bank)
    token.mint(bank, 10_000_000 * UNIT, sender=bank)
    token.approve(pool, 5_000_000 * UNIT, sender=bank)
    pool.deposit(5_000_000 * UNIT, sender=bank)
    token.mint(debtor, 5_000_000 * UNIT, sender=bank)
    token.approve(contract, 2**256 - 1, sender=debtor)
    contract.setDebtorTerms(debtor, 2_000_000 * UNIT, 600, sender=bank)  # 6 % a year
    return contract
