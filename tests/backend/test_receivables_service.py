"""Receivables operations through the backend service, against a real anvil with everything deployed."""

from typing import NamedTuple

import pytest
from web3 import Web3

from backend.core.chain import connect
from backend.core.dev_accounts import dev_account
from backend.core.errors import ConfigError, TransactionFailed
from backend.core.manifest import Manifest
from backend.core.money import UNIT
from backend.demo.seeding import seed, seed_supply_chain
from backend.services.deploy import deploy
from backend.services.pool import available
from backend.services.receivables import ReceivablesService

BANK, CORE, TIER1, TIER2, TIER3 = (dev_account(i) for i in range(5))
DAY = 24 * 3600
INVOICE = Web3.keccak(text="invoice")


class World(NamedTuple):
    w3: Web3
    manifest: Manifest


@pytest.fixture
def world(settings, local_chain):
    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    seed(w3, manifest)
    return World(w3, manifest)


@pytest.fixture
def service(world):
    return ReceivablesService(world.w3, world.manifest)


def now(w3):
    return w3.eth.get_block("latest")["timestamp"]


def advance_time(w3, seconds):
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def test_full_flow_issue_split_finance_repay(world, service):
    token = world.manifest.contract(world.w3, "SettlementToken")
    rid = service.issue(CORE, TIER1.address, 1_000 * UNIT, now(world.w3) + 90 * DAY, INVOICE, "PO-1")
    view = service.show(rid)
    assert (view.status, view.holder, view.amount, view.debtor) == ("Active", TIER1.address, 1_000 * UNIT, CORE.address)

    keep, passed = service.split(TIER1, rid, [(TIER1.address, 700 * UNIT), (TIER2.address, 300 * UNIT)])
    assert service.show(rid).status == "Split" and service.show(rid).parts == [keep, passed]
    assert service.show(passed).parent == rid and service.show(passed).holder == TIER2.address

    service.transfer(TIER2, passed, TIER3.address)
    assert service.show(passed).holder == TIER3.address

    service.set_debtor_terms(BANK, CORE.address, 10_000 * UNIT, 500)
    from backend.services.pool import deposit

    deposit(world.w3, world.manifest, BANK, 5_000 * UNIT)
    before = token.functions.balanceOf(TIER3.address).call()
    outcome = service.finance(TIER3, passed)
    assert outcome.approved and outcome.reason == "None"
    assert token.functions.balanceOf(TIER3.address).call() == before + outcome.advance
    assert 295 * UNIT < outcome.advance < 300 * UNIT
    assert service.show(passed).holder == world.manifest.record("FinancingPool").address

    service.repay(CORE, passed, 100 * UNIT)
    assert service.show(passed).outstanding == 200 * UNIT
    service.repay(CORE, passed, 200 * UNIT)
    assert service.show(passed).status == "Settled"

    held = {v.id for v in service.list_by_participant(TIER3.address)}
    assert held == {passed}
    owed = {v.id for v in service.list_by_participant(CORE.address)}
    assert owed == {rid}  # issued by the core; parts are found through their holders
    tier1 = {v.id: v.status for v in service.list_by_participant(TIER1.address)}
    assert tier1 == {rid: "Split", keep: "Active"}


def test_refusal_is_reported_with_its_reason(world, service):
    rid = service.issue(CORE, TIER1.address, 10 * UNIT, now(world.w3) + 30 * DAY, INVOICE, "PO-2")
    outcome = service.finance(TIER1, rid)  # the bank has set no terms for this debtor yet
    assert (outcome.approved, outcome.reason, outcome.advance) == (False, "NoFacility", 0)


def test_default_after_grace(world, service, settings):
    rid = service.issue(CORE, TIER1.address, 10 * UNIT, now(world.w3) + 2 * DAY, INVOICE, "PO-3")
    with pytest.raises(TransactionFailed, match="ReceivableNotOverdue"):
        service.mark_default(TIER2, rid)
    advance_time(world.w3, 2 * DAY + settings.grace_period + 1)
    service.mark_default(TIER2, rid)
    assert service.show(rid).status == "Defaulted"


def test_reverts_are_named(world, service):
    with pytest.raises(TransactionFailed, match=r"ReceivableUnknown\(99\)"):
        service.show(99)
    with pytest.raises(TransactionFailed, match="ReceivableParticipantNotAuthorized"):
        service.issue(TIER1, TIER2.address, 1, now(world.w3) + DAY, INVOICE, "PO-4")
    rid = service.issue(CORE, TIER1.address, 5, now(world.w3) + DAY, INVOICE, "PO-5")
    with pytest.raises(TransactionFailed, match="ReceivableDuplicateReference"):
        service.issue(CORE, TIER1.address, 5, now(world.w3) + DAY, INVOICE, "PO-5")
    with pytest.raises(TransactionFailed, match=rf"ReceivableSplitSumMismatch\({rid}, 5, 4\)"):
        service.split(TIER1, rid, [(TIER1.address, 2), (TIER2.address, 2)])
    with pytest.raises(ConfigError, match="not an address"):
        service.transfer(TIER1, rid, "0x123")
    with pytest.raises(ConfigError, match="1 to 32 bytes"):
        service.issue(CORE, TIER1.address, 5, now(world.w3) + DAY, INVOICE, "x" * 33)


def test_demo_supply_chain_seeds_once(world):
    assert seed_supply_chain(world.w3, world.manifest)
    assert not seed_supply_chain(world.w3, world.manifest)
    service = ReceivablesService(world.w3, world.manifest)
    statuses = [service.show(i).status for i in range(service.contract.functions.nextId().call())]
    assert statuses == ["Split", "Financed", "Active", "Split", "Active", "Financed"]
    assert available(world.w3, world.manifest) < 5_000_000 * UNIT
