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
