"""The IoT oracle daemon against a real mosquitto and a real anvil: every rule raises and clears once
on chain, a silent device is caught by the timer, malformed input is counted and never crashes it,
``kill -9`` and restart lose and duplicate nothing, two instances split one fleet."""

import asyncio
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest
from web3 import Web3

from backend.core.chain import connect
from backend.core.manifest import Manifest
from backend.demo.seeding import LESSEE, LESSOR, seed
from backend.index.audit import decoded_logs
from backend.services.deploy import deploy
from backend.services.leasing import LeaseService, LeaseTerms
from oracles.iot.rules import RuleBook, RuleEngine
from oracles.iot.simulator import SimDevice, fleet, rules_toml, simulate
from oracles.iot.store import DeviceStore
from tests.conftest import free_port
from tests.oracles.conftest import scrape

YINQI = str(Path(sys.executable).with_name("yinqi"))
UNIT = 10**6
RULES = {
    "idle_hours": 0.002,
    "idle_clear_hours": 0.01,
    "fuel_window_hours": 1.0,
    "fuel_min_hours": 0.5,
    "geofence_confirm": 2,
    "tamper_clear_messages": 3,
    "max_meter_rate": 2 * 3600,  # the simulator's meters run 3,600 times the clock (ms timestamps: headroom)
}  # idle after 7.2 s: the timer's work is seen in a test
FLAG_BITS = {"IDLE": 1, "GEOFENCE": 2, "FUEL": 4, "TAMPER": 8}


class World(NamedTuple):
    """A chain with a leased fleet and the rules file the oracle reads."""

    w3: Web3
    manifest: Manifest
    devices: list
    leases: dict[str, int]  # device id → lease id
    rules: Path
    env: dict[str, str]


@pytest.fixture
def world(settings, local_chain, tmp_path, env_for):
    """The contracts, a lessor and a lessee onboarded, and a running lease for each of five devices."""
    manifest = deploy(settings, environ={}).manifest
    w3 = connect(local_chain.url)
    seed(w3, manifest)  # the demo cast: the machinery maker leases to the builder
    devices = fleet(5, "mixed")
    terms = LeaseTerms(86_400, 24, 1_000 * UNIT, 10 * UNIT, ((10, 50 * UNIT), (1_000, 40 * UNIT)))
    leases = LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, [d.device_id for d in devices], terms)
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_toml(**RULES))  # defaults only: the oracle learns the devices from the chain
    return World(w3, manifest, devices, leases, rules, env_for(settings))


class Daemon:
    """`yinqi iot-oracle run` as a subprocess; stdout to a file so the test can wait for its lines."""

    def __init__(
        self, tmp_path: Path, broker, rules: Path, env: dict, *, name="a", group=None, state=None, extra_env=None
    ):
        self.out = tmp_path / f"iot-{name}.out"
        self.err = tmp_path / f"iot-{name}.err"
        self.state = state or tmp_path / "iot.sqlite"
        self.args = [
            YINQI,
            "-v",
            "iot-oracle",
            "run",
            "--broker",
            broker.address,
            "--rules",
            str(rules),
            "--state",
            str(self.state),
            "--client-id",
            f"oracle-{name}",
            "--flush-interval",
            "0.3",
            "--tick-interval",
            "0.5",
            "--lease-refresh",
            "60",
        ]
        if group:
            self.args += ["--group", group]
        self.env = {**env, **(extra_env or {})}
        self.process = None

    def start(self, timeout=60):
        self.out.write_text("")
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self.out.open("w"), stderr=self.err.open("w"))
        wait_for(lambda: '"ready"' in self.out.read_text() or self.process.poll() is not None, timeout, "daemon ready")
        assert self.process.poll() is None, self.err.read_text()[-3000:]
        return self

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(60) == 0, self.err.read_text()[-3000:]
        return json.loads(self.out.read_text().strip().splitlines()[-1])

    def kill(self):
        self.process.kill()
        self.process.wait()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def chain_flag_changes(w3, manifest, leases):
    """Per device, the (flag, raised) changes the lease contract recorded, in order."""
    by_lease = {lease_id: device for device, lease_id in leases.items()}
    changes = {device: [] for device in leases}
    for event in decoded_logs(w3, manifest, "EquipmentLease"):
        if event["event"] == "RiskFlagsChanged":
            a = event["args"]
            for name, bit in FLAG_BITS.items():
                if (a["previous"] ^ a["flags"]) & bit:
                    changes[by_lease[a["leaseId"]]].append((name, bool(a["flags"] & bit)))
    return changes


def chain_usage(w3, manifest):
    """(lease, period) → the last usage reported, and how many times usage was reported at all."""
    usage, reports = {}, 0
    for event in decoded_logs(w3, manifest, "EquipmentLease"):
        if event["event"] == "UsageReported":
            usage[(event["args"]["leaseId"], event["args"]["period"])] = event["args"]["usage"]
            reports += 1
    return usage, reports


def store_of(state, rules):
    return DeviceStore(state, RuleEngine(RuleBook.load(rules)))


def assert_chain_matches_store(w3, manifest, leases, devices, store, *, once=True):
    """Every flag change the store recorded is on chain, in order, once (`once`: and each incident
    raised or cleared once); usage on chain is the store's; no hour the normal device worked is lost.
    The on-chain flag changes per device."""
    on_chain = chain_flag_changes(w3, manifest, leases)
    for device in devices:
        local = [(FlagName(c["flag"]), bool(c["raised"])) for c in store.flag_changes(device.device_id)]
        assert on_chain[device.device_id] == local, device.device_id
        assert not once or len(set(local)) == len(local), device.device_id
    usage, _ = chain_usage(w3, manifest)
    assert usage == {key: int(hours * 100) for key, hours in store.usage().items()}
    assert usage[(leases["EXC-001"], 0)] / 100 == pytest.approx(devices[0].hours - 1000.0, abs=0.02)
    return on_chain


def test_rules_raise_and_clear_once_on_chain_and_the_timer_catches_silence(world, broker, tmp_path):
    daemon = Daemon(tmp_path, broker, world.rules, world.env).start()
    host, port = broker.host, broker.port
    try:
        asyncio.run(simulate(host, port, world.devices, rate=20, duration=4, speedup=3600))
        # silence: every device, working or not, must be caught idle by the timer alone
        wait_for(
            lambda: all(
                ("IDLE", True) in c for c in chain_flag_changes(world.w3, world.manifest, world.leases).values()
            ),
            60,
            "idle flags",
        )
        for device in world.devices:  # recover: work normally again
            device.scenario = "normal"
        asyncio.run(simulate(host, port, world.devices, rate=20, duration=3, speedup=3600))
        time.sleep(1.5)
        stopped = daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    store = store_of(daemon.state, world.rules)
    on_chain = assert_chain_matches_store(world.w3, world.manifest, world.leases, world.devices, store)
    assert on_chain["EXC-001"] == [("IDLE", True), ("IDLE", False)]  # normal: only its silence
    assert on_chain["EXC-002"] == [("IDLE", True), ("IDLE", False)]  # idle until it worked again
    assert on_chain["EXC-003"][0] == ("GEOFENCE", True) and ("GEOFENCE", False) not in on_chain["EXC-003"]
    assert on_chain["EXC-004"][0] == ("FUEL", True) and ("FUEL", False) in on_chain["EXC-004"]
    assert on_chain["EXC-005"][0] == ("TAMPER", True) and ("TAMPER", False) in on_chain["EXC-005"]
    assert stopped["counters"]["accepted"] > 0


def FlagName(bit):
    return {v: k for k, v in FLAG_BITS.items()}[bit]


def malformed(rng: random.Random) -> tuple[str, bytes]:
    """One message the oracle must refuse: broken JSON, wrong or missing fields, oversized, unknown
    device, wrong topic."""
    doc = {
        "device_id": "EXC-001",
        "timestamp": time.time(),
        "location": {"lat": 35.0, "lon": 115.0},
        "working_hours": 1000.0,
        "fuel_consumption": 6000.0,
    }
    kind = rng.randrange(7)
    topic = "device/EXC-001/data"
    if kind == 0:
        doc.pop(rng.choice(list(doc)))
    elif kind == 1:
        doc[rng.choice(list(doc))] = rng.choice([None, "x", [], True, -5, float("inf")])
    elif kind == 2:
        doc["location"] = rng.choice([None, {"lat": 91, "lon": 1}, {"lon": 1}, [31, 115], "31,115"])
    elif kind == 5:
        doc["device_id"] = topic_id = f"GHOST-{rng.randrange(100)}"
        topic = f"device/{topic_id}/data"
    elif kind == 6:
        topic = "device/EXC-002/data"  # the payload says EXC-001
    raw = json.dumps(doc).encode()
    if kind == 3:
        raw = raw[: rng.randrange(len(raw))]
    elif kind == 4:
        raw = rng.choice([raw + b" " * 5_000, b"\xff\xfe" + raw, b"[1, 2, 3]", b"null"])
    return topic, raw


def test_a_thousand_malformed_messages_are_counted_and_change_nothing(world, broker, tmp_path):
    daemon = Daemon(tmp_path, broker, world.rules, world.env)
    daemon.args += ["--metrics-port", str(metrics_port := free_port())]
    daemon.start()
    rng = random.Random(11)
    bad = [malformed(rng) for _ in range(1_000)]

    async def publish():
        from oracles.iot.mqtt import FlowControlledClient
        from oracles.iot.mqtt import connect as mqtt_connect

        client = FlowControlledClient()
        await mqtt_connect(client, broker.host, broker.port)
        for topic, payload in bad:
            await client.send(topic, payload)
        await client.drain()
        await client.disconnect()

    try:
        asyncio.run(publish())
        asyncio.run(
            simulate(broker.host, broker.port, world.devices[:1], rate=0, messages=3, speedup=3600)
        )  # still alive
        store = store_of(daemon.state, world.rules)
        wait_for(lambda: store.counters().get("accepted", 0) >= 3, 30, "the valid messages")
        metrics = scrape(metrics_port)  # what the operator's Prometheus sees
        stopped = daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    counters = stopped["counters"]
    rejected = {k: v for k, v in counters.items() if k != "accepted"}
    assert sum(rejected.values()) == 1_000, counters
    assert counters["accepted"] == 3
    assert {
        "missing_field",
        "wrong_type",
        "not_json",
        "oversized",
        "unknown_device",
        "topic_mismatch",
    } <= rejected.keys()
    by_reason = {k: v for k, v in metrics.items() if k.startswith("yinqi_iot_oracle_inputs_rejected_total{")}
    assert by_reason == {f'yinqi_iot_oracle_inputs_rejected_total{{reason="{r}"}}': n for r, n in rejected.items()}
    assert metrics["yinqi_iot_oracle_outbox_pending_reports"] == 0 and metrics["yinqi_iot_oracle_data_lag_seconds"] >= 0
    assert not any(k.startswith("yinqi_iot_oracle_loop_errors_total") for k in metrics)
    assert not any(chain_flag_changes(world.w3, world.manifest, world.leases).values()), chain_flag_changes(
        world.w3, world.manifest, world.leases
    )


@pytest.mark.parametrize("crash", ["kill-9", "publish.after_send:2"])
def test_kill_and_restart_lose_and_duplicate_nothing(world, broker, tmp_path, crash):
    extra = {"YINQI_FAILPOINT": crash} if crash != "kill-9" else {}
    daemon = Daemon(tmp_path, broker, world.rules, world.env, extra_env=extra).start()
    try:
        if crash == "kill-9":
            asyncio.run(simulate(broker.host, broker.port, world.devices, rate=50, duration=1.5, speedup=3600))
            daemon.kill()
        else:
            asyncio.run(simulate(broker.host, broker.port, world.devices, rate=50, duration=1.5, speedup=3600))
            wait_for(lambda: daemon.process.poll() is not None, 60, "the failpoint")
            assert daemon.process.returncode == 137
        # the fleet goes on while the oracle is down: the broker queues for the oracle's session
        asyncio.run(simulate(broker.host, broker.port, world.devices, rate=50, duration=1.5, speedup=3600))
        daemon.env.pop("YINQI_FAILPOINT", None)
        daemon.start()
        asyncio.run(simulate(broker.host, broker.port, world.devices, rate=50, duration=1, speedup=3600))
        time.sleep(2)
        daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    store = store_of(daemon.state, world.rules)
    on_chain = assert_chain_matches_store(
        world.w3, world.manifest, world.leases, world.devices, store, once=False
    )  # none lost, none twice
    assert on_chain["EXC-004"][:1] == [("FUEL", True)] and on_chain["EXC-005"][:1] == [("TAMPER", True)]


def test_two_instances_split_one_fleet_without_duplicates(world, broker, tmp_path):
    a = Daemon(tmp_path, broker, world.rules, world.env, name="a", group="oracles").start()
    b = Daemon(tmp_path, broker, world.rules, world.env, name="b", group="oracles").start()
    try:
        sent = asyncio.run(simulate(broker.host, broker.port, world.devices, rate=100, duration=3, speedup=3600))
        store = store_of(a.state, world.rules)
        wait_for(lambda: sum(store.counters().values()) >= sent, 30, "every message handled")
        time.sleep(1.5)
        stopped_a, stopped_b = a.stop(), b.stop()
    finally:
        for d in (a, b):
            if d.process.poll() is None:
                d.kill()
    assert stopped_a["handled"] > 0 and stopped_b["handled"] > 0  # both took a share
    assert stopped_a["handled"] + stopped_b["handled"] == sent  # and no message went to both
    on_chain = assert_chain_matches_store(world.w3, world.manifest, world.leases, world.devices, store)
    assert on_chain["EXC-004"][:1] == [("FUEL", True)]


def test_the_oracle_refuses_an_unreachable_broker_in_one_line(world, tmp_path):
    from tests.conftest import assert_one_line_error, free_port

    result = subprocess.run(
        [
            YINQI,
            "iot-oracle",
            "run",
            "--broker",
            f"127.0.0.1:{free_port()}",
            "--rules",
            str(world.rules),
            "--state",
            str(tmp_path / "s.sqlite"),
            "--connect-attempts",
            "2",
        ],
        env=world.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(result, "did not answer")


def test_one_of_two_instances_killed_mid_stream_the_other_takes_over(world, broker, tmp_path):
    a = Daemon(tmp_path, broker, world.rules, world.env, name="a", group="oracles").start()
    b = Daemon(tmp_path, broker, world.rules, world.env, name="b", group="oracles").start()
    try:
        sent = asyncio.run(simulate(broker.host, broker.port, world.devices, rate=100, duration=1.5, speedup=3600))
        a.kill()  # mid-stream: whatever it had in flight is unacknowledged
        sent += asyncio.run(simulate(broker.host, broker.port, world.devices, rate=100, duration=1.5, speedup=3600))
        store = store_of(b.state, world.rules)
        time.sleep(3)
        stopped_b = b.stop()
    finally:
        for d in (a, b):
            if d.process.poll() is None:
                d.kill()
    counters = store.counters()
    assert stopped_b["handled"] > 0
    assert sum(counters.values()) >= sent  # every message handled by one of them (redeliveries count as stale)
    # the meters are cumulative: whatever the killed instance held, the survivor's later messages count it
    on_chain = assert_chain_matches_store(world.w3, world.manifest, world.leases, world.devices, store, once=False)
    assert on_chain["EXC-004"][:1] == [("FUEL", True)] and on_chain["EXC-005"][:1] == [("TAMPER", True)]


async def publish_raw(broker, topic: str, payload: bytes) -> None:
    from oracles.iot.mqtt import FlowControlledClient
    from oracles.iot.mqtt import connect as mqtt_connect

    client = FlowControlledClient()
    await mqtt_connect(client, broker.host, broker.port)
    await client.send(topic, payload)
    await client.drain()
    await client.disconnect()


def test_an_absurd_meter_is_rejected_and_the_fleets_usage_and_flags_still_reach_the_chain(world, broker, tmp_path):
    daemon = Daemon(tmp_path, broker, world.rules, world.env).start()
    normal = world.devices[0]
    try:
        asyncio.run(simulate(broker.host, broker.port, world.devices, rate=50, duration=1.5, speedup=3600))
        absurd = {
            "device_id": normal.device_id,
            "timestamp": round(time.time(), 3),
            "location": {"lat": normal.lat, "lon": normal.lon},
            "working_hours": 1e30,  # one message: before, every later flush failed, for the whole fleet
            "fuel_consumption": normal.fuel,
        }
        asyncio.run(publish_raw(broker, f"device/{normal.device_id}/data", json.dumps(absurd).encode()))
        asyncio.run(simulate(broker.host, broker.port, world.devices, rate=50, duration=1.5, speedup=3600))
        time.sleep(1)
        stopped = daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    assert stopped["counters"]["implausible_meter"] == 1
    assert stopped["errors"] == {} and stopped["skipped_items"] == 0
    store = store_of(daemon.state, world.rules)
    on_chain = assert_chain_matches_store(world.w3, world.manifest, world.leases, world.devices, store)
    assert on_chain["EXC-004"][:1] == [("FUEL", True)] and on_chain["EXC-005"][:1] == [("TAMPER", True)]
    assert on_chain["EXC-001"] == []  # the absurd message raised no tamper either: it was never applied


def test_a_poisoned_row_from_an_older_version_does_not_stop_the_flusher(world, broker, tmp_path):
    """An older version accepted a meter of 1e30 h: its usage row does not fit the report word. After
    the upgrade the flusher leaves that one item out, says so once, and pushes everything else."""
    poisoned = (world.leases["EXC-004"], 0)  # the fuel device: its flag must still go, with its usage
    old = store_of(tmp_path / "iot.sqlite", world.rules)
    old._db.execute("INSERT INTO usage (lease_id, period, hours) VALUES (?, ?, ?)", (*poisoned, 1e30))
    old.close()
    daemon = Daemon(tmp_path, broker, world.rules, world.env)
    daemon.args += ["--metrics-port", str(metrics_port := free_port())]
    daemon.start()
    try:
        asyncio.run(simulate(broker.host, broker.port, world.devices, rate=50, duration=3, speedup=3600))
        time.sleep(1)
        metrics = scrape(metrics_port)
        stopped = daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    assert stopped["skipped_items"] == 1 and stopped["errors"] == {}
    assert metrics['yinqi_iot_oracle_inputs_rejected_total{reason="unpackable_item"}'] == 1
    sent, confirmed = (
        metrics["yinqi_iot_oracle_reports_sent_total"],
        metrics["yinqi_iot_oracle_reports_confirmed_total"],
    )
    assert confirmed >= 1 and sent >= confirmed
    assert daemon.err.read_text().count(f"report item usage:{poisoned[0]}:0 cannot be packed") == 1  # said once
    store = store_of(daemon.state, world.rules)
    usage, _ = chain_usage(world.w3, world.manifest)
    assert usage == {key: int(hours * 100) for key, hours in store.usage().items() if key != poisoned}
    assert len(usage) == len(world.devices) - 2  # every working device's but the poisoned one (and the idle one)
    on_chain = chain_flag_changes(world.w3, world.manifest, world.leases)
    for device in world.devices:
        local = [(FlagName(c["flag"]), bool(c["raised"])) for c in store.flag_changes(device.device_id)]
        assert on_chain[device.device_id] == local, device.device_id
    assert on_chain["EXC-004"][:1] == [("FUEL", True)] and on_chain["EXC-005"][:1] == [("TAMPER", True)]


def test_a_loop_iteration_that_raises_is_logged_counted_and_the_loop_goes_on(caplog):
    from collections import Counter

    from oracles.iot.daemon import _every

    calls, errors = [], Counter()

    def failed(name):
        errors[name] += 1
        return errors[name]

    async def action():
        calls.append(1)
        if len(calls) <= 2:
            raise ValueError("usage 10**32 does not fit in 64 bits")
        if len(calls) == 4:
            stop.set()

    stop = asyncio.Event()

    async def main():
        await asyncio.wait_for(_every(0.01, stop, "flusher", action, failed), timeout=10)

    asyncio.run(main())
    assert len(calls) == 4 and errors == {"flusher": 2}
    failures = [r for r in caplog.records if "flusher failed" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info for r in failures)  # with the traceback


def test_devices_follow_the_chain_and_the_rules_file_is_reread_without_a_restart(world, broker, tmp_path):
    """No device list: a device leased after the oracle started is taken at its next look at the chain;
    never heard from, it is flagged idle, timed from its lease's start; once it works, its usage reaches
    the chain. A rules file edited to a value of the wrong type is logged and the rules in force stay;
    a good edit applies — all without a restart."""
    daemon = Daemon(tmp_path, broker, world.rules, world.env)
    daemon.args[daemon.args.index("--lease-refresh") + 1] = "1"
    daemon.start()
    try:
        terms = LeaseTerms(86_400, 24, 0, 10 * UNIT, ((10, 50 * UNIT), (1_000, 40 * UNIT)))
        new = LeaseService(world.w3, world.manifest).lease_fleet(LESSOR, LESSEE, ["EXC-NEW"], terms)
        leases = {**world.leases, **new}
        wait_for(
            lambda: ("IDLE", True) in chain_flag_changes(world.w3, world.manifest, leases)["EXC-NEW"],
            60,
            "the idle flag of a leased device never heard from",
        )
        device = SimDevice("EXC-NEW", "normal")
        asyncio.run(simulate(broker.host, broker.port, [device], rate=20, duration=2, speedup=3600))
        wait_for(
            lambda: any(lease == new["EXC-NEW"] for lease, _ in chain_usage(world.w3, world.manifest)[0]),
            60,
            "the new device's usage on chain",
        )

        good = world.rules.read_text()
        world.rules.write_text(good.replace("idle_hours = 0.002", 'idle_hours = "24"'))
        wait_for(lambda: "keeping the rules in force" in daemon.err.read_text(), 30, "the bad edit refused")
        assert "idle_hours must be a number, got '24'" in daemon.err.read_text()
        world.rules.write_text(good + '[devices."EXC-001"]\nidle_hours = 48\n')
        wait_for(lambda: "1 device override(s)" in daemon.err.read_text(), 30, "the good edit applied")
        assert daemon.process.poll() is None
        stopped = daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.kill()
    assert stopped["counters"]["accepted"] > 0
