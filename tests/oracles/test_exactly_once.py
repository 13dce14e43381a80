"""A report is on chain exactly once, even when a send fails: what is pending is settled before
anything newer goes out, and "on chain" means the gateway accepted this report's payload at its
sequence — not merely that the feed's sequence has moved past it."""

import pytest
from web3 import Web3

from backend.core.chain import connect
from backend.core.codec import lease_payload, pack_lease_word
from backend.core.dev_accounts import dev_account
from backend.core.errors import ChainError
from backend.core.feeds import IOT_FEED
from backend.services.deploy import deploy
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox
from tests.oracles.rpc_proxy import RpcProxy

OPERATOR = dev_account(8)


def accepted(w3, manifest) -> list[tuple[int, bytes]]:
    """(sequence, payload hash) of every report the gateway accepted on the IoT feed, in order."""
    gateway = manifest.contract(w3, "OracleGateway")
    logs = gateway.events.ReportAccepted().get_logs(from_block=0, argument_filters={"feed": IOT_FEED})
    return [(e["args"]["sequence"], bytes(e["args"]["payloadHash"])) for e in logs]


def test_a_dropped_send_is_settled_before_the_next_report(one_lease, tmp_path):
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    first = lease_payload([pack_lease_word(lease_id, 0, 0, 2)])  # GEOFENCE raised
    second = lease_payload([pack_lease_word(lease_id, 0, 0, 0)])  # and cleared
    flaky = {"on": True}

    def drop_sends(request):
        return RpcProxy.DROP if flaky["on"] and request["method"] == "eth_sendRawTransaction" else None

    outbox, now = Outbox(tmp_path / "outbox.sqlite"), w3.eth.get_block("latest")["timestamp"]
    with RpcProxy(w3.provider.endpoint_uri, drop_sends) as node:
        publisher = ReportPublisher(connect(node.url), manifest, OPERATOR, outbox, IOT_FEED, retries=2, backoff=0.01)
        with pytest.raises(ChainError, match="did not answer"):
            publisher.publish(first, {"flags:EXC-LEASED:1": "2"}, as_of=now)
        assert [r.payload for r in outbox.pending(IOT_FEED)] == [first]
        flaky["on"] = False  # the node is back
        publisher.publish(second, {"flags:EXC-LEASED:1": "0"}, as_of=now)
    assert [h for _, h in accepted(w3, manifest)] == [Web3.keccak(first), Web3.keccak(second)]  # each once, in order
    assert not outbox.pending(IOT_FEED)
    assert outbox.confirmed_values(IOT_FEED) == {"flags:EXC-LEASED:1": "0"}


def test_a_report_whose_sequence_another_took_is_sent_again_not_confirmed(one_lease, tmp_path):
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    ours = lease_payload([pack_lease_word(lease_id, 0, 0, 4)])  # FUEL raised
    theirs = lease_payload([pack_lease_word(lease_id, 0, 0, 8)])  # TAMPER raised, by another instance
    outbox = Outbox(tmp_path / "ours.sqlite")
    publisher = ReportPublisher(w3, manifest, OPERATOR, outbox, IOT_FEED)
    sequence, now = outbox.next_sequence(IOT_FEED, publisher._chain_last()), publisher.chain_now()
    outbox.enqueue(IOT_FEED, sequence, now, ours, {"flags:EXC-LEASED:1": "4"})
    # ...and before it could be sent (a crash), another instance's report took that sequence
    ReportPublisher(w3, manifest, OPERATOR, Outbox(tmp_path / "theirs.sqlite"), IOT_FEED).publish(theirs, {}, as_of=now)
    assert accepted(w3, manifest)[-1] == (sequence, Web3.keccak(theirs))

    assert publisher.recover() == 1  # a restart
    assert accepted(w3, manifest)[-1] == (sequence + 1, Web3.keccak(ours))  # ours landed, under the next sequence
    lease = manifest.contract(w3, "EquipmentLease").functions.leaseOf(lease_id).call()
    assert lease.flags == 4
    assert not outbox.pending(IOT_FEED)


def test_rows_from_another_chain_leave_no_gap(one_lease, tmp_path):
    """An outbox that ran ahead of this gateway (a reorg, a redeployed gateway): its confirmed rows are
    forgotten and its pending ones renumbered, so the gateway's next-sequence rule is met."""
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    outbox = Outbox(tmp_path / "outbox.sqlite")
    now = w3.eth.get_block("latest")["timestamp"]
    stale = outbox.enqueue(IOT_FEED, 40, now, lease_payload([pack_lease_word(lease_id, 0, 0, 1)]), {"x": "1"})
    outbox.confirm(stale)  # confirmed on a chain this one is not
    pending = lease_payload([pack_lease_word(lease_id, 0, 0, 2)])
    outbox.enqueue(IOT_FEED, 41, now, pending, {"flags:EXC-LEASED:1": "2"})
    publisher = ReportPublisher(w3, manifest, OPERATOR, outbox, IOT_FEED)
    last = publisher._chain_last()
    publisher.publish(lease_payload([pack_lease_word(lease_id, 0, 0, 4)]), {"flags:EXC-LEASED:1": "4"}, as_of=now)
    assert accepted(w3, manifest)[-2:] == [
        (last + 1, Web3.keccak(pending)),
        (last + 2, Web3.keccak(lease_payload([pack_lease_word(lease_id, 0, 0, 4)]))),
    ]
    assert not outbox.pending(IOT_FEED)


def test_a_report_the_consumer_refuses_is_dropped_and_blocks_nothing(settings, local_chain, tmp_path):
    """A credit report the CreditLine refuses for its content (merchants out of order) is dropped with
    one clear error; the next report goes through."""
    from backend.core.codec import credit_payload, pack_credit_word
    from backend.core.feeds import CREDIT_FEED
    from oracles.gateway import ReportRejected

    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = ReportPublisher(w3, manifest, dev_account(7), outbox, CREDIT_FEED)
    low, high = sorted((dev_account(1).address, dev_account(2).address), key=lambda a: int(a, 16))
    words = [pack_credit_word(high, 1_000, 700, 900), pack_credit_word(low, 1_000, 700, 900)]  # descending
    now = publisher.chain_now()
    with pytest.raises(ReportRejected, match="CreditLineMerchantsNotAscending"):
        publisher.publish(credit_payload(b"\x01" * 32, b"\x02" * 32, words), {high: "1", low: "1"}, as_of=now)
    assert not outbox.pending(CREDIT_FEED)
    publisher.publish(credit_payload(b"\x01" * 32, b"\x02" * 32, words[::-1]), {high: "1", low: "1"}, as_of=now)
    assert manifest.contract(w3, "CreditLine").functions.lineOf(low).call().limit == 1_000 * 10**6


def test_confirmed_of_reads_the_named_items_alone(tmp_path):
    """What a co-signer reads per proposal: each named item's value and as-of, whatever else is confirmed
    (more items than SQLite binds at once included); items never confirmed are absent."""
    outbox = Outbox(tmp_path / "outbox.sqlite")
    book = {f"item-{i}": hex(i) for i in range(1_200)}
    outbox.record_applied(IOT_FEED, 1_000, book)
    outbox.record_applied(IOT_FEED, 2_000, {"item-7": "0x77"})
    named = [*(f"item-{i}" for i in range(0, 1_200, 2)), "never"]
    values, as_of = outbox.confirmed_of(IOT_FEED, named)
    assert values == {k: book[k] for k in named[:-1]}  # item-7, set since, is not named
    assert as_of == dict.fromkeys(named[:-1], 1_000)
    assert outbox.confirmed_of(IOT_FEED, ["item-7"]) == ({"item-7": "0x77"}, {"item-7": 2_000})
    outbox.close()
