"""Fixtures for the contract unit tests: role accounts and fresh deployments on ape's local:test
network (py-evm), each contract built and granted its roles by the same steps `yinqi deploy` takes
(backend.services.deploy.STEPS and GRANTS). Each test runs in its own chain snapshot (ape's
isolation), so state never leaks.
"""

from dataclasses import dataclass, field
from types import SimpleNamespace

import ape
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import HealthCheck, settings

from backend.core.codec import credit_payload, pack_credit_word
from backend.core.dev_accounts import dev_account
from backend.core.enums import Role
from backend.core.money import UNIT  # settlement token units per DCNY
from backend.services.deploy import GRANTS, STEPS
from oracles.gateway import ReportDomain
from oracles.gateway import sign_report as sign_report_in

ADMIN_DELAY = 2 * 24 * 3600  # seconds before a new bank admin may accept (two-step transfer)
DAY = 24 * 3600
GRACE = 15 * DAY


@dataclass
class Wiring:
    """What `yinqi deploy`'s steps read to build a contract's constructor arguments, on ape's chain."""

    bank_admin: str
    settings: SimpleNamespace
    contracts: dict = field(default_factory=dict)

    def address(self, name: str) -> str:
        return self.contracts[name].address


@pytest.fixture(scope="session")
def wiring(bank):
    return Wiring(bank.address, SimpleNamespace(admin_transfer_delay=ADMIN_DELAY, grace_period=GRACE))


def deploy_step(project, bank, wiring, name):
    """Deploy `name` with the arguments `yinqi deploy` gives it, then take the roles it is granted there
    (the granting contract is always deployed first: STEPS are in dependency order)."""
    (step,) = [s for s in STEPS if s.name == name]
    contract = bank.deploy(getattr(project, name), *step.args(wiring))
    wiring.contracts[name] = contract
    for grant in GRANTS:
        if grant.grantee == name:
            granter = wiring.contracts[grant.contract]
            granter.grantRole(getattr(granter, grant.role)(), contract, sender=bank)
    return contract


def permit_signature(token, chain, owner, spender, value, deadline=None, nonce=None):
    """`owner`'s EIP-2612 permit of `value` to `spender` as (deadline, v, r, s). ape's test accounts and
    anvil's share the public dev mnemonic: the owner's key is the dev key of the same address."""
    key = next(dev_account(i) for i in range(10) if dev_account(i).address == owner.address).key
    deadline = chain.pending_timestamp + 3600 if deadline is None else deadline
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": token.name(), "version": "1", "chainId": chain.chain_id, "verifyingContract": token.address},
        "message": {
            "owner": owner.address,
            "spender": str(spender.address if hasattr(spender, "address") else spender),
            "value": value,
            "nonce": token.nonces(owner) if nonce is None else nonce,
            "deadline": deadline,
        },
    }
    sig = Account.sign_message(encode_typed_data(full_message=typed), key)
    return deadline, sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big")


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
def token(project, bank, wiring):
    return deploy_step(project, bank, wiring, "SettlementToken")


@pytest.fixture(scope="session")
def registry(project, bank, wiring):
    return deploy_step(project, bank, wiring, "ParticipantRegistry")


@pytest.fixture(scope="session")
def roles(registry):
    """The business role bits, as the contract answers them (and as backend.core.enums has them)."""
    found = {role.name: getattr(registry, f"ROLE_{role.name}")() for role in Role}
    assert found == {role.name: int(role) for role in Role}
    return found


# --- receivables financing -------------------------------------------------------------------


@pytest.fixture(scope="session")
def supplier2(accounts):
    """A tier-2 supplier (supplies `supplier`)."""
    return accounts[5]


@pytest.fixture(scope="session")
def supplier3(accounts):
    """A tier-3 supplier."""
    return accounts[6]


@pytest.fixture(scope="session")
def pool(project, bank, token, wiring):
    return deploy_step(project, bank, wiring, "FinancingPool")


@pytest.fixture(scope="module")
def receivables(project, bank, registry, token, pool, debtor, supplier, supplier2, supplier3, roles, wiring):
    """Receivables wired as `yinqi deploy` wires it, with a core enterprise and three supplier tiers
    onboarded, the pool funded and the debtor given terms. Module-scoped: ape's isolation reverts what
    it did to the shared token, registry and pool when the module ends, so other modules see them fresh."""
    contract = deploy_step(project, bank, wiring, "Receivables")
    registry.onboard(debtor, roles["CORE_ENTERPRISE"], b"\x01" * 32, "core", sender=bank)
    for i, s in enumerate((supplier, supplier2, supplier3)):
        registry.onboard(s, roles["SUPPLIER"], bytes([i + 2]) * 32, f"tier-{i + 1}", sender=bank)
    token.mint(bank, 10_000_000 * UNIT, sender=bank)
    token.approve(pool, 5_000_000 * UNIT, sender=bank)
    pool.deposit(5_000_000 * UNIT, sender=bank)
    token.mint(debtor, 5_000_000 * UNIT, sender=bank)
    token.approve(contract, 2**256 - 1, sender=debtor)
    contract.setDebtorTerms(debtor, 2_000_000 * UNIT, 600, 10_000, 0, sender=bank)  # 6 % a year
    return contract


# --- credit lines and the oracle gateway -------------------------------------------------------

CREDIT_FEED = b"credit-scores".ljust(32, b"\x00")
IOT_FEED = b"iot-usage".ljust(32, b"\x00")
MODEL_HASH = b"\x42" * 32
FEATURES_ROOT = b"\x17" * 32
OPERATOR_INDEXES = (7, 6, 4)  # dev accounts acting as the credit feed's operators
IOT_OPERATOR_INDEXES = (5,)  # the IoT feed's operator: it signs for that feed only


@pytest.fixture(scope="module")
def operators(accounts):
    return [accounts[i] for i in OPERATOR_INDEXES]


@pytest.fixture(scope="module")
def gateway(project, bank, operators, accounts, wiring):
    """The gateway with each feed's own operators, as `yinqi deploy` admits them (per feed)."""
    contract = deploy_step(project, bank, wiring, "OracleGateway")
    for op in operators:
        contract.addOperator(CREDIT_FEED, op, sender=bank)
    for i in IOT_OPERATOR_INDEXES:
        contract.addOperator(IOT_FEED, accounts[i], sender=bank)
    return contract


@pytest.fixture(scope="module")
def credit_line(project, bank, registry, token, pool, gateway, merchant, roles, wiring):
    """A credit line wired as `yinqi deploy` wires it, fed by the gateway (quorum 1, one day max
    age), its pool funded and one merchant onboarded. Module-scoped, like `receivables`."""
    contract = deploy_step(project, bank, wiring, "CreditLine")
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
    return pack_credit_word(str(merchant), limit_whole, score, rate_bps)


def ascending(*words) -> list[int]:
    """`words` in the order a report must carry them: merchants strictly ascending (the merchant is a
    word's top bits, so the words sort by merchant)."""
    return sorted(words)


def report_payload(words) -> bytes:
    return credit_payload(MODEL_HASH, FEATURES_ROOT, words)


def sign_report(gateway, feed, sequence, as_of, payload, signer_indexes) -> list[bytes]:
    """Operators' EIP-712 signatures over the report, in ascending signer order."""
    domain = ReportDomain(ape.chain.chain_id, gateway.address)  # built here, as the daemons build it
    return sign_report_in(domain, feed, sequence, as_of, payload, [dev_account(i) for i in signer_indexes])


# --- equipment leases --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lease(project, bank, registry, token, receivables, gateway, debtor, roles, wiring):
    """EquipmentLease wired as `yinqi deploy` wires it. The lessor is the tier-1 supplier; the lessee
    is the core enterprise, also onboarded as a lessee (so its rent may become a receivable)."""
    contract = deploy_step(project, bank, wiring, "EquipmentLease")
    gateway.configureFeed(IOT_FEED, contract, 1, DAY, sender=bank)
    registry.setRoles(debtor, roles["CORE_ENTERPRISE"] | roles["LESSEE"], sender=bank)
    token.approve(contract, 2**256 - 1, sender=debtor)
    return contract


class Reads:
    """The view functions of an ape contract, called through web3 on the same chain: half the cost of
    ape's call path (no contract-code check, no transaction model per call), for state machines whose
    invariants read every record after every step. Accounts may be passed as they are; struct results
    come as named tuples (``reads.leaseOf(i).status``), as with ape."""

    def __init__(self, contract):
        abi = [item.model_dump(mode="json", by_alias=True) for item in contract.contract_type.abi]
        web3 = ape.chain.provider.web3
        self._functions = web3.eth.contract(address=contract.address, abi=abi, decode_tuples=True).functions

    def __getattr__(self, name):
        function = getattr(self._functions, name)
        return lambda *args: function(*(getattr(a, "address", a) for a in args)).call()


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
