"""The article's sample contract interface, driven exactly as its client would: only the sketch's ABI
(`createReceivable`, `applyForFinancing`, `receivables`, `nextId`, `FinancingApplied`), no knowledge
of our richer interface."""

import pytest
from ape import Contract
from ethpm_types import ContractType

from tests.contracts.conftest import DAY, UNIT

SEED_ABI = [
    {
        "type": "function",
        "name": "createReceivable",
        "stateMutability": "nonpayable",
        "outputs": [],
        "inputs": [
            {"name": "_creditor", "type": "address"},
            {"name": "_amount", "type": "uint256"},
            {"name": "_dueDate", "type": "uint256"},
        ],
    },
    {
        "type": "function",
        "name": "applyForFinancing",
        "stateMutability": "nonpayable",
        "outputs": [],
        "inputs": [{"name": "_id", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "receivables",
        "stateMutability": "view",
        "inputs": [{"name": "", "type": "uint256"}],
        "outputs": [
            {"name": "debtor", "type": "address"},
            {"name": "creditor", "type": "address"},
            {"name": "amount", "type": "uint256"},
            {"name": "dueDate", "type": "uint256"},
            {"name": "isFinanced", "type": "bool"},
        ],
    },
    {
        "type": "function",
        "name": "nextId",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "event",
        "name": "FinancingApplied",
        "anonymous": False,
        "inputs": [
            {"name": "id", "type": "uint256", "indexed": True},
            {"name": "creditor", "type": "address", "indexed": True},
            {"name": "amount", "type": "uint256", "indexed": False},
        ],
    },
]


@pytest.fixture
def seed(receivables):
    return Contract(receivables.address, contract_type=ContractType(contractName="ReceivableFinancing", abi=SEED_ABI))


def test_seed_client_create_apply_financing_applied(seed, receivables, pool, token, debtor, supplier, chain):
    first_id = seed.nextId()
    assert first_id == 0  # the sketch numbers receivables from 0
    due = chain.pending_timestamp + 30 * DAY
    seed.createReceivable(supplier, 50_000 * UNIT, due, sender=debtor)
    assert seed.nextId() == first_id + 1
    assert seed.receivables(first_id) == (debtor.address, supplier.address, 50_000 * UNIT, due, False)

    before = token.balanceOf(supplier)
    tx = seed.applyForFinancing(first_id, sender=supplier)
    applied = [log for log in tx.events if log.event_name == "FinancingApplied"]
    assert [(log.id, log.creditor, log.amount) for log in applied] == [(first_id, supplier.address, 50_000 * UNIT)]
    debtor_, creditor, amount, due_, financed = seed.receivables(first_id)
    assert (debtor_, amount, due_, financed) == (debtor.address, 50_000 * UNIT, due, True)
    assert creditor == pool.address  # the claim was assigned to the bank's pool
    assert token.balanceOf(supplier) > before  # and unlike the sketch, money moved


def test_seed_rules_hold_only_creditor_and_not_twice(seed, receivables, debtor, supplier, supplier2, chain):
    import ape

    seed.createReceivable(supplier, 10 * UNIT, chain.pending_timestamp + DAY, sender=debtor)
    with ape.reverts(receivables.ReceivableNotHolder):  # "Only creditor can apply"
        seed.applyForFinancing(0, sender=supplier2)
    seed.applyForFinancing(0, sender=supplier)
    with ape.reverts(receivables.ReceivableNotHolder):  # "Already financed"
        seed.applyForFinancing(0, sender=supplier)


def test_seed_create_by_anyone_but_a_core_enterprise_is_refused(seed, receivables, supplier, supplier2, chain):
    """The sketch's bug (`debtor` undefined) is closed: only registered core enterprises issue."""
    import ape

    with ape.reverts(receivables.ReceivableParticipantNotAuthorized):
        seed.createReceivable(supplier2, 1, chain.pending_timestamp + DAY, sender=supplier)
