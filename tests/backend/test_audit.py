"""An auditor rebuilds every receivable from events alone, and it matches the live chain."""

import pytest

from backend.core.chain import connect
from backend.core.dev_accounts import dev_account
from backend.demo.seeding import seed, seed_supply_chain
from backend.index.audit import decoded_logs, replay_receivables
from backend.services.deploy import deploy
from backend.services.receivables import ReceivablesService

CORE, TIER1, TIER3 = dev_account(1), dev_account(2), dev_account(4)
DAY = 24 * 3600


@pytest.fixture
def busy_chain(settings, local_chain):
    """The demo's supply chain, then repayments, a transfer, a refusal and a default."""
    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    seed(w3, manifest)
    seed_supply_chain(w3, manifest)
    service = ReceivablesService(w3, manifest)
    service.repay(CORE, 1, 100_000 * 10**6)  # part of a financed one: to the pool
    service.repay(CORE, 4, 120_000 * 10**6)  # a supplier-held part, in full
    service.transfer(TIER1, 2, TIER3.address)
    now = w3.eth.get_block("latest")["timestamp"]
    short = service.issue(CORE, TIER1.address, 5 * 10**6, now + DAY, b"\x01" * 32, "PO-SHORT")
    w3.provider.make_request("evm_increaseTime", [DAY + settings.grace_period + 1])
    w3.provider.make_request("evm_mine", [])
    assert not service.finance(TIER1, short).approved  # matured: a recorded refusal
    service.mark_default(TIER1, short)
    return w3, manifest, service


def test_state_rebuilt_from_events_matches_the_chain(busy_chain):
    w3, manifest, service = busy_chain
    states = replay_receivables(decoded_logs(w3, manifest, "Receivables"))
    count = service.contract.functions.nextId().call()
    assert sorted(states) == list(range(count))
    for rid, rebuilt in states.items():
        live = service.show(rid)
        assert (rebuilt.debtor, rebuilt.holder, rebuilt.amount, rebuilt.repaid) == (
            live.debtor,
            live.holder,
            live.amount,
            live.repaid,
        )
        assert (rebuilt.status, rebuilt.financed, rebuilt.parent, rebuilt.parts) == (
            live.status,
            live.financed,
            live.parent,
            live.parts,
        )
        assert rebuilt.due_date == live.due_date
    assert {s.status for s in states.values()} == {"Split", "Financed", "Active", "Settled", "Defaulted"}
    assert "FinancingRefused" in states[count - 1].history
