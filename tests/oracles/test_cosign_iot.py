"""The IoT feed at 2-of-3 on a real anvil and mosquitto: three IoT oracles, each with its own key,
its own MQTT subscription to the fleet and its own store, co-sign every report (usage and risk flags)
over the same broker; one alone lands nothing; an operator whose store counts other hours refuses."""

import asyncio
import sqlite3
import subprocess
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_account import Account
from web3 import Web3

from backend.core.chain import connect
from backend.core.codec import lease_payload, pack_lease_word, split_words, unpack_lease_word
from backend.core.enums import LeaseStatus, RiskFlag
from backend.core.feeds import IOT_FEED
from backend.demo.seeding import LESSEE, LESSOR, seed
from backend.services.deploy import deploy
from backend.services.leasing import LeaseService, LeaseTerms
from oracles.cosign import Proposal
from oracles.iot.agree import check_iot, usage_agrees
from oracles.iot.rules import FlagChange, RuleBook, RuleEngine
from oracles.iot.simulator import fleet, rules_toml, simulate
from oracles.iot.store import DeviceStore, LeaseInfo, StoreReader
from tests.conftest import free_port
from tests.oracles.conftest import scrape
from tests.oracles.test_cosign import submitted
from tests.oracles.test_iot_daemon import RULES, YINQI, chain_flag_changes, chain_usage, store_of, wait_for

OPERATORS = sorted(
    (Account.from_key(Web3.keccak(text=f"iot operator {i}")) for i in range(3)), key=lambda a: int(a.address, 16)
)
UNIT = 10**6


# --- unit: what a follower signs -----------------------------------------------------------------


def test_usage_agrees_within_what_the_follower_counted():
    assert usage_agrees(1_000, 1_000) and usage_agrees(1_005, 1_000) and usage_agrees(400, 1_000)
    assert not usage_agrees(1_006, 1_000)  # past max(0.05 h, 0.5 %) above its own count
    assert usage_agrees(100_400, 100_000) and not usage_agrees(100_501, 100_000)


# --- three daemons on anvil and mosquitto --------------------------------------------------------


@pytest.fixture
def network(settings, local_chain, tmp_path, env_for):
    """The IoT feed at 2-of-3 with OPERATORS (funded), the credit feed at its own quorum; a running
    lease for each of five devices."""
    operators = ",".join(a.address for a in OPERATORS)
    manifest = deploy(
        replace(settings, iot_oracle_quorum=2), environ={"YINQI_IOT_ORACLE_OPERATORS": operators}
    ).manifest
    w3 = connect(local_chain.url)
    for operator in OPERATORS:
        w3.provider.make_request("anvil_setBalance", [operator.address, hex(10**20)])
    seed(w3, manifest)
    devices = fleet(5, "mixed")
    terms = LeaseTerms(86_400, 24, 1_000 * UNIT, 10 * UNIT, ((10, 50 * UNIT), (1_000, 40 * UNIT)))
    leases = LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, [d.device_id for d in devices], terms)
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_toml(**RULES))
    env = env_for(settings, **{f"YINQI_IOT{i}_KEY": a.key.hex() for i, a in enumerate(OPERATORS)})
    return w3, manifest, devices, leases, rules, env


class Operator:
    """One operator's `yinqi iot-oracle run`, co-signing, with its own store and client id."""

    def __init__(self, tmp_path: Path, broker, rules: Path, env: dict, i: int) -> None:
        self.state, self.log, self.port = tmp_path / f"iot{i}.sqlite", tmp_path / f"iot{i}.log", free_port()
        args = [
            "iot-oracle", "run", "--broker", broker.address, "--rules", str(rules), "--state", str(self.state),
            "--signer", f"env:IOT{i}", "--flush-interval", "0.3", "--tick-interval", "0.5", "--lease-refresh", "60",
            "--cosign-broker", broker.address, "--round-seconds", "1", "--metrics-port", str(self.port),
        ]  # fmt: skip
        with self.log.open("w") as log:
            self.proc = subprocess.Popen([YINQI, *args], env=env, stdout=subprocess.DEVNULL, stderr=log)

    def metric(self, name: str) -> float:
        try:
            return scrape(self.port).get(f"yinqi_iot_oracle_{name}", 0.0)
        except Exception:
            return 0.0

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.log.read_text()


@pytest.fixture
def operators():
    started: list[Operator] = []
    yield started
    for operator in started:
        operator.stop()


def report_signers(w3, manifest) -> list[list[str]]:
    return [who for _, who in submitted(w3, manifest, IOT_FEED)]


def test_two_of_three_iot_reports_land_usage_and_flags(network, broker, tmp_path, operators):
    w3, manifest, devices, leases, rules, env = network
    operators += [Operator(tmp_path, broker, rules, env, i) for i in range(3)]
    time.sleep(4)  # each operator connected and subscribed to the fleet
    asyncio.run(simulate(broker.host, broker.port, devices, rate=20, duration=4, speedup=3600))

    def flagged():
        on_chain = chain_flag_changes(w3, manifest, leases)
        return on_chain["EXC-003"][:1] == [("GEOFENCE", True)] and on_chain["EXC-004"][:1] == [("FUEL", True)]

    wait_for(flagged, 60, "the geofence and fuel flags on chain")
    wait_for(  # then silence: the idle timer of every operator catches every device
        lambda: all(("IDLE", True) in c for c in chain_flag_changes(w3, manifest, leases).values()), 60, "idle flags"
    )
    wait_for(lambda: chain_usage(w3, manifest)[0].get((leases["EXC-001"], 0), 0) > 0, 60, "usage on chain")
    signers = report_signers(w3, manifest)
    assert signers
    for who in signers:  # every report co-signed: two distinct operators, ascending
        assert len(set(who)) == len(who) >= 2 and set(who) <= {a.address for a in OPERATORS}
        assert who == sorted(who, key=lambda a: int(a, 16))

    def settled():  # every change any store recorded (the idle timer's too) is on chain
        on_chain = chain_flag_changes(w3, manifest, leases)
        for op in operators:
            reader = StoreReader(op.state)
            counts = {device: len(reader.flag_changes(device)) for device in leases}
            reader.close()
            if any(counts[device] != len(on_chain[device]) for device in leases):
                return False
        return True

    wait_for(settled, 60, "every operator's changes on chain")
    time.sleep(3)  # a few more slots: every operator leads one, with nothing left to send
    reports = len(report_signers(w3, manifest))
    for op in operators:
        op.stop()
    lease = manifest.contract(w3, "EquipmentLease")
    for op in operators:  # whoever led, each operator knows each lease's flags on chain: its own device's
        store = store_of(op.state, rules)
        with sqlite3.connect(op.state) as db:
            assert db.execute("SELECT COUNT(*) FROM reports WHERE status = 'pending'").fetchone()[0] == 0
            confirmed = dict(db.execute("SELECT item, value FROM confirmed WHERE item LIKE 'flags:%'").fetchall())
        for device, lease_id in leases.items():
            on_chain = lease.functions.leaseOf(lease_id).call().flags
            assert on_chain == store.current_flags(device) == int(confirmed[f"flags:{lease_id}"]), (op.log, device)
        store.close()
    assert len(report_signers(w3, manifest)) == reports  # and nothing was sent again


def test_an_operator_that_sees_no_fuel_alarm_withholds_and_the_other_two_land_it(network, broker, tmp_path, operators):
    """Operator 2 reads the fleet under other fuel rules (it never raises FUEL): it refuses every
    report that carries the alarm, says why, and the other two land it."""
    w3, manifest, devices, leases, rules, env = network
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(rules_toml(**{**RULES, "fuel_min_hours": 1_000.0}))
    operators += [Operator(tmp_path, broker, rules, env, i) for i in range(2)]
    operators.append(Operator(tmp_path, broker, lenient, env, 2))
    time.sleep(4)
    asyncio.run(simulate(broker.host, broker.port, devices, rate=20, duration=4, speedup=3600))
    wait_for(lambda: chain_flag_changes(w3, manifest, leases)["EXC-004"][:1] == [("FUEL", True)], 60, "the alarm")
    carried = [
        who
        for call, who in submitted(w3, manifest, IOT_FEED)
        if any(
            i.lease_id == leases["EXC-004"] and i.flags is not None and i.flags & 4
            for i in map(unpack_lease_word, split_words(call["payload"]))
        )
    ]
    assert carried and all(who == [OPERATORS[0].address, OPERATORS[1].address] for who in carried)
    assert operators[2].metric('cosign_refusals_total{reason="flags_mismatch"}') > 0
    assert "refused: flags_mismatch" in operators[2].stop()


def test_a_follower_refuses_what_its_own_store_does_not_show(tmp_path):
    """The check itself, against a store: usage beyond the follower's count, a running lease it does
    not follow, flags the device does not hold (an old alarm, one it never raised), two states for one
    lease, an as-of its store has not reached or in the future, an empty report; words the lease will
    ignore need no agreement."""
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_toml(fleet(1, "normal"), **RULES))
    store = DeviceStore(tmp_path / "store.sqlite", RuleEngine(RuleBook.load(rules)))
    lease = LeaseInfo(7, 0, 86_400, 24)
    store._save(2_000.0, [], {(lease.lease_id, 0): 3.0, (lease.lease_id, 1): 1.0}, {})  # complete up to 2,000
    by_id = {lease.lease_id: ("EXC-001", lease)}
    chain = {7: (LeaseStatus.ACTIVE, 1), 8: (LeaseStatus.ACTIVE, 0), 9: (LeaseStatus.RECALLED, 0)}  # status, billed

    def lease_of(lease_id):
        status, billed = chain[lease_id]
        return SimpleNamespace(call=lambda: SimpleNamespace(status=status, billed=billed, periods=24))

    def check(*words, as_of=1_900):
        payload = lease_payload(words)
        return check_iot(store, by_id, Proposal(IOT_FEED, 1, 1, as_of, payload, {}), lease_of, catch_up=0)

    word = partial(pack_lease_word, lease.lease_id)
    assert check(word(1, 100)).ok
    assert check(word(1, 120)).reason == "usage_mismatch"
    assert check(word(0, 99_999)).ok  # period 0 is billed: the lease ignores its usage
    assert check(pack_lease_word(9, 0, 99_999, 8)).ok  # a lease no longer running ignores the whole word
    assert check(pack_lease_word(8, 0, 1)).reason == "unknown_lease"  # running, but not followed here
    assert check(word(1, 100, 2)).reason == "flags_mismatch"  # an alarm the device never raised
    assert check(word(1, 100, 0)).ok  # the device's flags now
    assert check(word(1, 100, 0), word(1, 100, 0)).reason == "duplicate_flags"
    assert check(word(1, 1), as_of=2_500) == (False, "as_of_ahead", 2_000)
    assert check(word(1, 1), as_of=int(time.time()) + 60).reason == "from_future"
    assert check().reason == "empty_report"
    raise_, clear = (FlagChange("EXC-001", RiskFlag.GEOFENCE, up, at, "", RiskFlag.GEOFENCE if up else RiskFlag(0))
                     for up, at in ((True, 1_000.0), (False, 1_500.0)))  # fmt: skip
    store._save(2_000.0, [raise_, clear], {}, {})
    assert check(word(1, 100, 0)).ok
    assert check(word(1, 100, 2)).reason == "flags_mismatch"  # an old alarm is not raised again
    assert check(word(1, 100, 2), as_of=1_497).ok  # a state left within the grace: the leader a message behind
    store.close()
