"""Fixtures for the contract unit tests: role accounts and fresh deployments on ape's local:test
network (py-evm). Each test runs in its own chain snapshot (ape's isolation), so state never leaks.
"""

import pytest
from hypothesis import HealthCheck, settings

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


# --- credit lines and the oracle gateway -------------------------------------------------------

CREDIT_FEED = b"credit-scores".ljust(32, b"\x00")
MODEL_HASH = b"\x42" * 32
FEATURES_ROOT = b"\x17" * 32
OPERATOR_INDEXES = (7, 6, 4)  # dev accounts acting as oracle operators


@pytest.fixture(scope="module")
def operators(accounts):
    return [accounts[i] for i in OPERATOR_INDEXES]


@pytest.fixture(scope="module")
def gateway(project, bank, operators):
    contract = bank.deploy(project.OracleGateway, bank, ADMIN_DELAY)
    for op in operators:
        contract.addOperator(op, sender=bank)
    return contract


@pytest.fixture(scope="module")
def credit_line(project, bank, registry, token, pool, gateway, merchant, roles):
    """A credit line wired as `yinqi deploy` wires it, fed by the gateway (quorum 1, one day max
    age), its pool funded and one merchant onboarded. Module-scoped, like `receivables`."""
    contract = bank.deploy(project.CreditLine, registry, token, 6, pool, gateway, bank, ADMIN_DELAY)
    pool.grantRole(pool.LENDER_ROLE(), contract, sender=bank)
    gateway.configureFeed(CREDIT_FEED, contract, 1, DAY, sender=bank)
    registry.onboard(merchant, roles["MERCHANT"], b"\x05" * 32, "merchant", sender=bank)
    token.mint(bank, 1_000_000 * UNIT, sender=bank)
    token.approve(pool, 1_000_000 * UNIT, sender=bank)
    pool.deposit(1_000_000 * UNIT, sender=bank)
    token.mint(merchant, 10_000 * UNIT, sender=bank)
    token.approve(contract, 2**256 - 1, sender=merchant)
    return contract


def score_word(merchant, limit_whole, score, rate_bps) -> int:
    """One merchant's update as the credit oracle packs it."""
    from oracles.gateway import pack_credit_word

    return pack_credit_word(str(merchant), limit_whole, score, rate_bps)


def report_payload(words) -> bytes:
    from oracles.gateway import credit_payload

    return credit_payload(MODEL_HASH, FEATURES_ROOT, words)


def sign_report(gateway, feed, sequence, as_of, payload, signer_indexes) -> list[bytes]:
    """Operators' EIP-712 signatures over the report, in ascending signer order."""
    from backend.core.dev_accounts import dev_account
    from oracles.gateway import sign_digest

    return sign_digest(gateway.reportDigest(feed, sequence, as_of, payload), [dev_account(i) for i in signer_indexes])


# --- equipment leases --------------------------------------------------------------------------

IOT_FEED = b"iot-usage".ljust(32, b"\x00")


@pytest.fixture(scope="module")
def lease(project, bank, registry, token, receivables, gateway, debtor, roles):
    """EquipmentLease wired as `yinqi deploy` wires it. The lessor is the tier-1 supplier; the lessee
    is the core enterprise, also onboarded as a lessee (so its rent may become a receivable)."""
    contract = bank.deploy(project.EquipmentLease, registry, token, receivables, gateway, bank, ADMIN_DELAY)
    receivables.grantRole(receivables.ISSUER_ROLE(), contract, sender=bank)
    gateway.configureFeed(IOT_FEED, contract, 1, DAY, sender=bank)
    registry.setRoles(debtor, roles["CORE_ENTERPRISE"] | roles["LESSEE"], sender=bank)
    token.approve(contract, 2**256 - 1, sender=debtor)
    return contract


def run_machine(machine, *, examples: int, steps: int) -> None:
    """Run a hypothesis state machine the same way every time (derandomized: CI sees the histories
    a developer saw), with no deadline (a transaction on py-evm takes what it takes)."""
    machine.TestCase.settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    machine.TestCase().runTest()
