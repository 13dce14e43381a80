"""IoT oracle ingest rate next to a raw subscriber, and the latency from an anomalous message to its
flag on chain.

    python -m bench.iot_ingest [--messages 20000] [--devices 50]

Same private mosquitto, same publisher (`yinqi devices simulate --rate 0`, a separate process), same
run. The raw subscriber is a bare gmqtt client counting QoS 1 messages; the daemon parses, runs the
rules and commits each batch to SQLite before acknowledging. Rate = messages / (last handled −
first handled). Latency: a device's meters run backwards (tamper) → the lease's flags on chain,
polled every 10 ms, next to the time one report takes from submission to receipt on the same anvil;
then the same with the IoT feed co-signed 2-of-3 (three operator daemons, each its own key, state
and subscription, proposing in turn each `--round-seconds` slot), next to the one signer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from backend.core.chain import wait_for_receipt
from backend.core.dev_accounts import dev_account
from backend.core.enums import RiskFlag
from backend.demo.seeding import LESSEE, LESSOR, seed
from backend.local.broker import LocalBroker
from backend.services.leasing import DEMO_TERMS, LeaseService
from bench._harness import env_for, free_port, private_chain, write_results
from oracles.iot.mqtt import TOPIC, FlowControlledClient, connect
from oracles.iot.rules import RuleBook, RuleEngine
from oracles.iot.simulator import SimDevice, fleet, rules_toml
from oracles.iot.store import DeviceStore

YINQI = str(Path(sys.executable).with_name("yinqi"))
TARGET = 0.5  # the daemon ingests at least half what a raw subscriber does
SPEEDUP = 60  # the simulated meters run this many times the clock (the rules allow twice that)


def _publisher(broker: LocalBroker, messages: int, devices: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            YINQI,
            "devices",
            "simulate",
            "--broker",
            broker.address,
            "--count",
            str(devices),
            "--scenario",
            "normal",
            "--rate",
            "0",
            "--messages",
            str(messages),
            "--speedup",
            str(SPEEDUP),
        ],
        stdout=subprocess.DEVNULL,
    )


async def _raw_rate(broker: LocalBroker, messages: int, devices: int) -> float:
    stamps: list[float] = []
    done = asyncio.Event()

    def on_message(client, topic, payload, qos, properties):
        stamps.append(time.perf_counter())
        if len(stamps) >= messages:
            done.set()
        return 0

    client = FlowControlledClient()
    client.on_message = on_message
    await connect(client, broker.host, broker.port)
    client.subscribe(TOPIC, qos=1)
    await asyncio.sleep(0.5)
    publisher = _publisher(broker, messages, devices)
    await asyncio.wait_for(done.wait(), timeout=600)
    await client.disconnect()
    publisher.wait()
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _daemon(broker, rules: Path, state: Path, env: dict, out: Path, *extra: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            YINQI,
            "iot-oracle",
            "run",
            "--broker",
            broker.address,
            "--rules",
            str(rules),
            "--state",
            str(state),
            "--flush-interval",
            "0.05",
            "--tick-interval",
            "5",
            *extra,
        ],
        env=env,
        stdout=out.open("w"),
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while '"ready"' not in out.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the IoT oracle did not start")
        time.sleep(0.1)
    return process


def _daemon_rate(broker, rules, state, env, out, messages, devices) -> float:
    process = _daemon(broker, rules, state, env, out)
    store = DeviceStore(state, RuleEngine(RuleBook.load(rules)))
    try:
        publisher = _publisher(broker, messages, devices)
        first = last = None
        while True:
            handled = sum(store.counters().values())
            now = time.perf_counter()
            if handled and first is None:
                first, first_count = now, handled
            if handled >= messages:
                last = now
                break
            time.sleep(0.02)
        publisher.wait()
        return (messages - first_count) / (last - first)
    finally:
        store.close()
        process.terminate()
        process.wait(60)


def _latency(broker, w3, manifest, leases, samples: int, daemons: list[subprocess.Popen]) -> tuple[list, list]:
    """Each sample device's tamper message → its lease's TAMPER flag on chain (seconds), as the running
    `daemons` put it there, and as many plain transactions' times to receipt on the same anvil."""
    lease = manifest.contract(w3, "EquipmentLease")
    latencies, report_times = [], []

    async def tamper(device: SimDevice) -> None:
        client = FlowControlledClient()
        await connect(client, broker.host, broker.port)
        for _ in range(2):  # two clean messages, then the meters jump backwards
            await client.send(f"device/{device.device_id}/data", device.message(time.time(), SPEEDUP))
            await asyncio.sleep(0.05)
        device.scenario, device.sent = "tamper", 4
        t0 = time.perf_counter()
        await client.send(f"device/{device.device_id}/data", device.message(time.time(), SPEEDUP))
        while not lease.functions.leaseOf(leases[device.device_id]).call().flags & RiskFlag.TAMPER:
            await asyncio.sleep(0.01)
        latencies.append(time.perf_counter() - t0)
        await client.disconnect()

    try:
        for device in fleet(samples, "normal", prefix="LAT-"):
            asyncio.run(tamper(device))
        # the reference: one transaction from submission to receipt on this anvil
        for _ in range(samples):
            t0 = time.perf_counter()
            wait_for_receipt(  # polled as the daemons poll theirs
                w3, w3.eth.send_transaction({"from": w3.eth.accounts[9], "to": w3.eth.accounts[9], "value": 1})
            )
            report_times.append(time.perf_counter() - t0)
    finally:
        for process in daemons:
            process.terminate()
        for process in daemons:
            process.wait(60)
    return latencies, report_times


def _co_signed_latency(samples: int, round_seconds: float) -> tuple[list[float], list[float]]:
    """:func:`_latency` with the IoT feed co-signed 2-of-3: three operators (dev accounts #8, #12, #13),
    each its own daemon, key, state and subscription, on a chain and broker of their own."""
    operators = (8, 12, 13)
    environ = {"YINQI_IOT_ORACLE_OPERATORS": ",".join(dev_account(i).address for i in operators)}
    with (
        private_chain(environ, iot_oracle_quorum=2) as (settings, w3, manifest),
        tempfile.TemporaryDirectory() as tmp,
    ):
        tmp = Path(tmp)
        seed(w3, manifest)
        devices = [d.device_id for d in fleet(samples, prefix="LAT-")]
        terms = replace(DEMO_TERMS, deposit=10**6)
        leases = LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, devices, terms)
        rules = tmp / "rules.toml"
        rules.write_text(rules_toml([SimDevice(d, "normal") for d in devices], max_meter_rate=2 * SPEEDUP))
        with LocalBroker(tmp / "broker", free_port()) as broker:
            cosign = ("--cosign-broker", broker.address, "--round-seconds", str(round_seconds))
            daemons = [
                _daemon(
                    broker,
                    rules,
                    tmp / f"op{i}.sqlite",
                    env_for(settings),
                    tmp / f"op{i}",
                    "--signer",
                    f"dev:{i}",
                    *cosign,
                )
                for i in operators
            ]
            return _latency(broker, w3, manifest, leases, samples, daemons)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--round-seconds", type=float, default=2.0, help="co-signing slot (the daemon's default)")
    args = parser.parse_args(argv)
    with private_chain() as (settings, w3, manifest), tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        seed(w3, manifest)
        fleet_ids = [d.device_id for d in fleet(args.devices, "normal")] + [
            d.device_id for d in fleet(args.samples, prefix="LAT-")
        ]
        terms = replace(DEMO_TERMS, deposit=10**6)  # one DCNY each: the lessee's funds cover a large fleet
        leases = LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, fleet_ids, terms)
        rules = tmp / "rules.toml"
        rules.write_text(rules_toml([SimDevice(d, "normal") for d in fleet_ids], max_meter_rate=2 * SPEEDUP))
        env = env_for(settings)
        with LocalBroker(tmp / "broker", free_port()) as broker:
            raw = asyncio.run(_raw_rate(broker, args.messages, args.devices))
            daemon = _daemon_rate(broker, rules, tmp / "iot.sqlite", env, tmp / "out", args.messages, args.devices)
            single = [_daemon(broker, rules, tmp / "lat.sqlite", env, tmp / "out2")]
            latencies, reference = _latency(broker, w3, manifest, leases, args.samples, single)
    co_signed, co_reference = _co_signed_latency(args.samples, args.round_seconds)
    rows = [
        {
            "figure": "ingest, messages/s",
            "value": round(daemon),
            "reference": round(raw),
            "ratio": daemon / raw,
            "reference is": "raw gmqtt subscriber, same broker",
            "target": f"≥ {TARGET}",
            "met": "yes" if daemon / raw >= TARGET else "no",
        },
        {
            "figure": "anomaly → flag on chain, ms (median)",
            "value": round(statistics.median(latencies) * 1000),
            "reference": round(statistics.median(reference) * 1000),
            "ratio": statistics.median(latencies) / statistics.median(reference),
            "reference is": "one transaction to receipt, same anvil",
            "target": "",
            "met": "",
        },
        {
            "figure": "anomaly → flag on chain, ms (max)",
            "value": round(max(latencies) * 1000),
            "reference": None,
            "ratio": None,
            "reference is": f"{len(latencies)} samples",
            "target": "",
            "met": "",
        },
        {
            "figure": "anomaly → flag on chain co-signed 2-of-3, ms (median)",
            "value": round(statistics.median(co_signed) * 1000),
            "reference": round(statistics.median(latencies) * 1000),
            "ratio": statistics.median(co_signed) / statistics.median(latencies),
            "reference is": "one signer, same run",
            "target": "",
            "met": "",
        },
        {
            "figure": "anomaly → flag on chain co-signed 2-of-3, ms (max)",
            "value": round(max(co_signed) * 1000),
            "reference": round(statistics.median(co_reference) * 1000),
            "ratio": None,
            "reference is": f"{len(co_signed)} samples; reference: one transaction to receipt, its anvil",
            "target": "",
            "met": "",
        },
    ]
    write_results("iot_ingest", rows, ["figure", "value", "reference", "ratio", "reference is", "target", "met"])
    print(json.dumps({"messages": args.messages, "devices": args.devices}))


if __name__ == "__main__":
    main()
