"""A report's as-of time is the time of the data it was computed from, fixed when it is recorded: a
retry sends it unchanged, a report too old to send is dropped (with every report after it) rather
than re-stamped as fresh, and a time the gateway or the feed's last report rules out is refused."""

import json
import logging

import pytest

from backend.core.chain import connect
from backend.core.codec import lease_payload, pack_lease_word
from backend.core.dev_accounts import dev_account
from backend.core.errors import ChainError
from backend.core.feeds import IOT_FEED
from oracles.gateway import AsOfRefused, ReportPublisher, sign_report, submit_report
from oracles.iot.daemon import IotOracle, IotOracleConfig
from oracles.iot.rules import DEFAULT_RULES, RuleBook, RuleEngine
from oracles.iot.store import DeviceStore, Message
from oracles.outbox import Outbox
from tests.oracles.rpc_proxy import RpcProxy

OPERATOR = dev_account(8)
FLAGS = {"flags:EXC-LEASED:1": "2"}


def on_chain(w3, manifest) -> list[tuple[int, int]]:
    """(sequence, as-of time) of every report the gateway accepted on the IoT feed, in order."""
    gateway = manifest.contract(w3, "OracleGateway")
    logs = gateway.events.ReportAccepted().get_logs(from_block=0, argument_filters={"feed": IOT_FEED})
    return [(e["args"]["sequence"], e["args"]["asOf"]) for e in logs]


def warp(w3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def test_a_report_sent_again_later_keeps_its_as_of(one_lease, tmp_path):
    """A send that failed goes out ten minutes later as of the time it was recorded with, not re-stamped."""
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    flaky = {"on": True}

    def drop_sends(request):
        return RpcProxy.DROP if flaky["on"] and request["method"] == "eth_sendRawTransaction" else None

    outbox = Outbox(tmp_path / "outbox.sqlite")
    with RpcProxy(one_lease.url, drop_sends) as node:
        publisher = ReportPublisher(connect(node.url), manifest, OPERATOR, outbox, IOT_FEED, retries=2, backoff=0.01)
        as_of = publisher.chain_now()
        with pytest.raises(ChainError, match="did not answer"):
            publisher.publish(lease_payload([pack_lease_word(lease_id, 0, 0, 2)]), FLAGS, as_of=as_of)
        warp(w3, 600)
        flaky["on"] = False  # the node is back
        assert publisher.recover() == 1
    assert on_chain(w3, manifest) == [(1, as_of)]
    assert w3.eth.get_block("latest")["timestamp"] >= as_of + 600
    (changed,) = manifest.contract(w3, "EquipmentLease").events.RiskFlagsChanged().get_logs(from_block=0)
    assert changed["args"]["asOf"] == as_of  # the lease dates the flag by its data too
    assert outbox.confirmed_as_of(IOT_FEED) == {"flags:EXC-LEASED:1": as_of}


def test_reports_too_old_to_send_are_dropped_with_those_after_them(one_lease, tmp_path, caplog):
    """Two recorded reports (a flag raised, then cleared) outlive the feed's maximum age unsent: both
    are dropped, counted and logged in one line — never sent as of a new time, and the second never
    alone, out of order; the oracle's next report, from current data, goes out as of that data."""
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = ReportPublisher(w3, manifest, OPERATOR, outbox, IOT_FEED)
    last, as_of = publisher._chain_last(), publisher.chain_now()
    for n, flags in ((1, 2), (2, 0)):
        payload = lease_payload([pack_lease_word(lease_id, 0, 0, flags)])
        outbox.enqueue(IOT_FEED, last + n, as_of, payload, {f"flags:EXC-LEASED:{n}": str(flags)})
    warp(w3, publisher.max_age())
    with caplog.at_level(logging.WARNING, logger="oracles.gateway"):
        assert publisher.recover() == 0
    assert not outbox.pending(IOT_FEED) and not outbox.confirmed_values(IOT_FEED)
    assert publisher.metrics.value("reports_dropped_total", reason="expired") == 2 and on_chain(w3, manifest) == []
    (line,) = [r.getMessage() for r in caplog.records if "too old" in r.getMessage()]
    assert "dropped with the 1 pending report(s) after it" in line

    fresh = publisher.chain_now()
    publisher.publish(lease_payload([pack_lease_word(lease_id, 0, 0, 2)]), FLAGS, as_of=fresh)
    assert on_chain(w3, manifest) == [(last + 1, fresh)]


def test_a_report_that_landed_is_confirmed_even_once_too_old_to_send(one_lease, tmp_path):
    """Exactly once: a report that reached the chain but was never confirmed here (a crash after the
    send) and then aged out is recognised as applied, not dropped for its age."""
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = ReportPublisher(w3, manifest, OPERATOR, outbox, IOT_FEED)
    sequence, as_of = publisher._chain_last() + 1, publisher.chain_now()
    payload = lease_payload([pack_lease_word(lease_id, 0, 0, 2)])
    outbox.enqueue(IOT_FEED, sequence, as_of, payload, FLAGS)
    signatures = sign_report(publisher.domain, IOT_FEED, sequence, as_of, payload, [OPERATOR])
    submit_report(w3, manifest, OPERATOR, IOT_FEED, sequence, as_of, payload, signatures)
    warp(w3, publisher.max_age())
    assert publisher.recover() == 1 and publisher.metrics.value("reports_dropped_total", reason="expired") is None
    assert outbox.confirmed_values(IOT_FEED) == FLAGS and on_chain(w3, manifest) == [(sequence, as_of)]


def test_an_as_of_from_the_future_too_old_or_before_the_last_report_is_refused(one_lease, tmp_path):
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = ReportPublisher(w3, manifest, OPERATOR, outbox, IOT_FEED)
    payload, now = lease_payload([pack_lease_word(lease_id, 0, 0, 2)]), publisher.chain_now()
    with pytest.raises(AsOfRefused, match="ahead of the chain's clock"):
        publisher.publish(payload, FLAGS, as_of=now + 301)  # the gateway allows 5 minutes
    with pytest.raises(AsOfRefused, match="s old: the gateway takes reports"):
        publisher.publish(payload, FLAGS, as_of=now - publisher.max_age())
    publisher.publish(payload, FLAGS, as_of=now)
    with pytest.raises(AsOfRefused, match="must not go backwards"):  # an item set as of `now` on chain
        publisher.publish(lease_payload([pack_lease_word(lease_id, 0, 0, 0)]), FLAGS, as_of=now - 1)
    assert not outbox.pending(IOT_FEED) and on_chain(w3, manifest) == [(1, now)]


def test_the_store_records_the_time_it_is_complete_up_to(tmp_path):
    """The latest `now` a batch or the idle timer brought the store to; never moved back (two
    instances may share the store), kept across a restart."""
    path = tmp_path / "iot.sqlite"
    store = DeviceStore(path, RuleEngine(RuleBook.load(DEFAULT_RULES)))
    assert store.observed_at() is None
    store.apply([Message("device/EXC-001/data", b"not json")], 1_800_000_010.5, {})
    assert store.observed_at() == 1_800_000_010.5
    store.tick(1_800_000_005)
    assert store.observed_at() == 1_800_000_010.5
    store.tick(1_800_000_060)
    store.close()
    assert DeviceStore(path, RuleEngine(RuleBook.load(DEFAULT_RULES))).observed_at() == 1_800_000_060


def test_an_iot_flush_is_as_of_what_the_store_observed_capped_at_the_chains_time(one_lease, settings, tmp_path):
    """A flush's reports are as of the time the store was complete up to, not the chain's time; a
    store clock ahead of the chain's counts as the chain's time."""
    w3, manifest, lease_id = one_lease.w3, one_lease.manifest, one_lease.lease_id
    rules = tmp_path / "rules.toml"
    rules.write_text('[defaults]\n[devices."EXC-LEASED"]\n')
    oracle = IotOracle(IotOracleConfig(rules=rules, state=tmp_path / "iot.sqlite", settings=settings))
    start = manifest.contract(w3, "EquipmentLease").functions.leaseOf(lease_id).call().start
    warp(w3, 600)

    def report(seconds: float, lat: float) -> Message:
        doc = {
            "device_id": "EXC-LEASED",
            "timestamp": start + seconds,
            "location": {"lat": lat, "lon": 115.0},
            "working_hours": 1000.0,
            "fuel_consumption": 0.0,
        }
        return Message("device/EXC-LEASED/data", json.dumps(doc).encode())

    try:
        assert oracle.flush() == 0  # nothing observed yet
        oracle.store.apply([report(10, 40.001), report(20, 40.001)], start + 30, oracle.leases)  # just out
        assert oracle.flush() == 1
        assert on_chain(w3, manifest) == [(1, start + 30)]
        chain = w3.eth.get_block("latest")["timestamp"]
        oracle.store.apply([report(40, 39.999), report(50, 39.999)], chain + 10_000, oracle.leases)  # back in
        assert oracle.flush() == 1
        assert on_chain(w3, manifest)[-1] == (2, chain)
        flags = manifest.contract(w3, "EquipmentLease").events.RiskFlagsChanged().get_logs(from_block=0)
        assert [(e["args"]["flags"], e["args"]["asOf"]) for e in flags] == [(2, start + 30), (0, chain)]
    finally:
        oracle.close()
