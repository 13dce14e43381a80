"""``yinqi demo``: everything up on the embedded defaults, seeded with a realistic cast.

The local chain, the contracts, the demo participants onboarded and funded, a supply chain in
motion, a scored merchant, and a leased fleet reporting over the demo's own MQTT broker through the
IoT oracle, and the API serving the web UI: the chain and broker as supervised processes, the rest
as ``yinqi`` child processes, all stopped together.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from web3 import Web3

from backend.core.chain import connect, rpc_chain_id
from backend.core.config import DEV_CHAIN_ID, Settings
from backend.core.dev_accounts import DEV_ACCOUNT_COUNT, dev_account
from backend.core.errors import ChainError
from backend.core.manifest import Manifest
from backend.demo.seeding import AUDITOR_INDEX, DEMO_CAST, LESSEE, LESSOR, seed, seed_credit, seed_supply_chain
from backend.local.broker import LocalBroker
from backend.local.node import LocalChain
from backend.local.process import spawn
from backend.services.deploy import deploy
from backend.services.leasing import LeaseService
from oracles.iot.simulator import fleet, rules_toml

DEMO_SPEEDUP = 60  # the simulated fleet's meters run this many times faster than the clock
DEMO_RULES = {
    "idle_hours": 0.03,  # the demo's idle device is flagged within two minutes, not a day
    "max_meter_rate": 2 * DEMO_SPEEDUP,  # else the oracle rejects the fast-running meters as implausible
}


def start_services(settings: Settings, w3: Web3, manifest: Manifest) -> list[subprocess.Popen]:
    """Lease the demo fleet (one device per scenario), then run the IoT oracle and the simulator
    against the demo's broker, and the API with the web UI, as child processes. Their logs go to
    $YINQI_HOME/<name>.log."""
    devices = fleet(5, "mixed")
    LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, [d.device_id for d in devices])
    rules = settings.home / "iot-rules.toml"
    rules.write_text(rules_toml(devices, **DEMO_RULES))
    broker = f"127.0.0.1:{settings.mqtt_port}"
    yinqi = str(Path(sys.executable).with_name("yinqi"))
    commands = {
        "iot-oracle": [
            yinqi,
            "-v",
            "iot-oracle",
            "run",
            "--broker",
            broker,
            "--rules",
            str(rules),
            "--tick-interval",
            "5",
        ],
        "iot-devices": [
            yinqi,
            "devices",
            "simulate",
            "--broker",
            broker,
            "--count",
            "5",
            "--rate",
            "2",
            "--scenario",
            "mixed",
            "--speedup",
            str(DEMO_SPEEDUP),
        ],
        "api": [yinqi, "api", "--port", str(settings.api_port)],
    }
    children = []
    for name, command in commands.items():
        children.append(spawn(command, settings.home / f"{name}.log", new_session=False))
        time.sleep(1.0)  # the oracle subscribes before the fleet publishes
    return children


def describe(settings: Settings, manifest: Manifest, url: str) -> str:
    """What to tell a person: where the chain is and which dev accounts to import into a wallet."""
    names = {m.index: m.name for m in DEMO_CAST} | {AUDITOR_INDEX: "Auditor 审计 (read-only)"}
    lines = [
        "",
        f"Yinqi demo is up. Chain RPC: {url} (chain id {manifest.chain_id})",
        f"Deployment manifest: {Manifest.path_for(settings, manifest.chain_id)}",
    ]
    lines += [f"  {name:<20} {rec.address}" for name, rec in manifest.contracts.items()]
    lines += [
        "",
        "Import these local dev accounts into your browser wallet (PUBLIC test keys; local chain only):",
    ]
    for index in range(DEV_ACCOUNT_COUNT):
        account = dev_account(index)
        lines.append(f"  #{index} {account.address}  key 0x{account.key.hex().removeprefix('0x')}  {names[index]}")
    lines += [
        "",
        f"Web UI and API: http://127.0.0.1:{settings.api_port}/ (OpenAPI: /api/openapi.json); "
        "connect your wallet there.",
        f"MQTT broker: 127.0.0.1:{settings.mqtt_port}; five simulated devices (normal, idle, geofence, fuel, tamper) "
        "publish to device/<id>/data; the IoT oracle pushes their usage and risk flags to their leases.",
        "",
        "Press Ctrl-C to stop; the chain keeps its state for the next start.",
    ]
    return "\n".join(lines)


def run_demo(settings: Settings, stop: threading.Event, echo: Callable[[str], None] = print) -> None:
    """Bring everything up, tell the user how to connect, and hold until ``stop`` is set."""
    chain, broker, children = None, None, []
    try:
        running = rpc_chain_id(settings.rpc_url)
        if running is None:
            chain = LocalChain(settings)
            chain.start()
        elif running != DEV_CHAIN_ID:
            raise ChainError(f"{settings.rpc_url} is chain {running}, not the local dev chain {DEV_CHAIN_ID}")
        else:
            echo(f"Using the local chain already running at {settings.rpc_url}.")
        result = deploy(settings)
        w3 = connect(settings.rpc_url, settings.rpc_timeout)
        seeded = seed(w3, result.manifest)
        if seed_supply_chain(w3, result.manifest):
            echo("Seeded a supply chain: receivables issued, split down three tiers, two financed.")
        if credit := seed_credit(settings, w3):
            echo(credit)
        broker = LocalBroker(settings.home / "mosquitto", settings.mqtt_port)
        broker.start()
        children = start_services(settings, w3, result.manifest)
        if result.deployed:
            echo(f"Deployed: {', '.join(result.deployed)}")
        if seeded:
            echo(f"Onboarded and funded {len(seeded)} demo participants.")
        echo(describe(settings, result.manifest, settings.rpc_url))
        while not stop.wait(0.5):
            if chain is not None and chain.exit_code() is not None:
                raise ChainError("the local chain stopped unexpectedly; see .yinqi/anvil.log")
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        if broker is not None:
            broker.stop()
        if chain is not None:
            chain.stop()
            echo("Stopped the local chain (state saved).")
