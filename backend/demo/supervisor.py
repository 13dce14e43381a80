"""``yinqi demo``: everything up on the embedded defaults, seeded with a realistic cast.

The local chain, the contracts, the demo participants onboarded and funded, a supply chain in
motion, a merchant scored by three credit oracle operators, and a leased fleet reporting over the
demo's own MQTT broker to three IoT oracle operators (each feed co-signed 2-of-3), and the API
serving the web UI: the chain and broker as supervised processes, the rest as ``yinqi`` child
processes, all stopped together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from web3 import Web3

from backend.core.chain import connect, rpc_chain_id
from backend.core.config import DEV_CHAIN_ID, Settings
from backend.core.dev_accounts import DEV_ACCOUNT_COUNT, dev_account
from backend.core.errors import ChainError, ManifestError, YinqiError
from backend.core.manifest import Manifest
from backend.demo.seeding import (
    AUDITOR_INDEX,
    CREDIT_OPERATORS,
    DEMO_CAST,
    DEMO_QUORUM,
    IOT_OPERATORS,
    LESSEE,
    LESSOR,
    OTHER_OPERATORS,
    CreditInputs,
    credit_line_granted,
    prepare_credit,
    seed,
    seed_supply_chain,
)
from backend.local.broker import LocalBroker
from backend.local.node import LocalChain
from backend.local.process import free_port, spawn
from backend.services.deploy import deploy
from backend.services.leasing import LeaseService
from oracles.iot.simulator import fleet, rules_toml

DEMO_SPEEDUP = 60  # the simulated fleet's meters run this many times faster than the clock
DEMO_ROUND_SECONDS = 3  # each co-signing slot: one operator leads, in turn
DEMO_CREDIT_INTERVAL = 5  # seconds between a credit operator's cycles (each leads one slot in three)
CREDIT_LINE_WAIT = 120  # seconds the demo waits for the co-signed line of its merchant
ORACLE_READY_WAIT = 60  # seconds the fleet waits for each IoT oracle to subscribe
MAX_BACKOFF = 60.0  # seconds: the longest wait before a service that exited is started again
STATUS_EVERY = 2.0  # seconds between rewrites of the status file `yinqi status` reads
DEMO_RULES = {
    "idle_hours": 0.03,  # the demo's idle device is flagged within two minutes, not a day
    "max_meter_rate": 2 * DEMO_SPEEDUP,  # else the oracle rejects the fast-running meters as implausible
}


def demo_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with each feed's demo operators (three dev accounts each, :data:`CREDIT_OPERATORS`,
    :data:`IOT_OPERATORS`), for ``yinqi deploy`` to admit."""
    return {
        **environ,
        "YINQI_CREDIT_ORACLE_OPERATORS": ",".join(dev_account(i).address for i in CREDIT_OPERATORS),
        "YINQI_IOT_ORACLE_OPERATORS": ",".join(dev_account(i).address for i in IOT_OPERATORS),
    }


def fund_operators(w3: Web3) -> None:
    """Give the demo's oracle operators gas money where they have none (a chain saved before the demo
    had them: anvil funds its dev accounts only at genesis). Dev chain only."""
    for index in (*CREDIT_OPERATORS, *IOT_OPERATORS):
        address = dev_account(index).address
        if w3.eth.get_balance(address) < 10**18:
            w3.provider.make_request("anvil_setBalance", [address, hex(10_000 * 10**18)])


def oracle_commands(settings: Settings, yinqi: str, credit: list[CreditInputs], rules: Path) -> dict[str, list[str]]:
    """Each feed's operators as separate daemons, each with its own key, inputs, state and MQTT client,
    co-signing k-of-n over the demo's broker (which in production would be the operators' own)."""
    broker = f"127.0.0.1:{settings.mqtt_port}"
    cosign = ["--cosign-broker", broker, "--round-seconds", str(DEMO_ROUND_SECONDS)]
    commands = {}
    for n, (index, inputs) in enumerate(zip(CREDIT_OPERATORS, credit, strict=True), start=1):
        own = settings.home / ("credit" if n == 1 else f"credit/operator-{n}")
        commands[f"credit-oracle-{n}"] = [
            *(yinqi, "-v", "credit-oracle", "run", "--signer", f"dev:{index}", *cosign),
            *("--data", str(inputs.data_dir), "--consents", str(inputs.consents_dir)),
            *("--model", str(inputs.model_dir), "--state", str(own / "outbox.sqlite")),
            *("--reasons", str(own / "reasons.json"), "--interval", str(DEMO_CREDIT_INTERVAL)),
        ]
    for n, index in enumerate(IOT_OPERATORS, start=1):
        commands[f"iot-oracle-{n}"] = [
            *(yinqi, "-v", "iot-oracle", "run", "--signer", f"dev:{index}", *cosign, "--broker", broker),
            *("--rules", str(rules), "--tick-interval", "5"),
            *("--state", str(settings.home / f"iot-oracle-{n}.sqlite")),
        ]
    return commands


def start_services(settings: Settings, w3: Web3, manifest: Manifest, credit: list[CreditInputs]) -> list[Service]:
    """Lease the demo fleet (one device per scenario), then run each feed's co-signing oracles, the
    simulator against the demo's broker, and the API with the web UI, as child processes. Their logs
    go to $YINQI_HOME/<name>.log."""
    devices = fleet(5, "mixed")
    LeaseService(w3, manifest).lease_fleet(LESSOR, LESSEE, [d.device_id for d in devices])
    rules = settings.home / "iot-rules.toml"
    rules.write_text(rules_toml(**DEMO_RULES))  # defaults only: the oracles learn the devices from the leases
    yinqi = str(Path(sys.executable).with_name("yinqi"))
    commands = oracle_commands(settings, yinqi, credit, rules) | {
        "iot-devices": [
            yinqi,
            "devices",
            "simulate",
            "--broker",
            f"127.0.0.1:{settings.mqtt_port}",
            "--count",
            "5",
            "--rate",
            "2",
            "--scenario",
            "mixed",
            "--speedup",
            str(DEMO_SPEEDUP),
        ],
        # anyone may bill: the bank's keeper does, so rent falls due without anyone's call
        "lease-keeper": [yinqi, "lease", "--signer", "dev:0", "keep", "--interval", "30s"],
        "api": [yinqi, "api", "--port", str(settings.api_port)],
    }
    services, waiting = [], []
    for name, command in commands.items():
        if name == "iot-devices":  # the fleet publishes once every IoT operator subscribed, or loses messages
            for service, offset in waiting:
                _await_ready(service, offset)
        metrics_port = free_port() if "oracle" in name else None
        if metrics_port is not None:
            command = [*command, "--metrics-port", str(metrics_port)]
        service = Service(name, command, settings.home / f"{name}.log", metrics_port=metrics_port)
        offset = service.log.stat().st_size if service.log.exists() else 0  # logs are appended to
        service.start()
        services.append(service)
        if name.startswith("iot-oracle"):
            waiting.append((service, offset))
    return services


@dataclass
class Service:
    """One child process the demo keeps running, as a process manager would: one that exits is
    reported in one line and started again after a backoff (1 s, doubling to a minute; back to 1 s
    once it has run a minute)."""

    name: str
    command: list[str]
    log: Path
    metrics_port: int | None = None  # where it serves Prometheus metrics, if it does
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    restarts: int = 0

    def start(self) -> None:
        self.process, self.started_at, self.restart_at = (
            spawn(self.command, self.log, new_session=False),
            time.monotonic(),
            None,
        )

    def watch(self, echo: Callable[[str], None]) -> None:
        """Restart the service if it is due; note it when it has just exited."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                echo(f"{self.name}: restarting")
                self.restarts += 1
                self.start()
            return
        if (code := self.process.poll()) is None:
            return
        if now - self.started_at >= MAX_BACKOFF:
            self.backoff = 1.0  # it ran a while: this is a fresh failure
        self.restart_at = now + self.backoff
        echo(f"{self.name} exited with code {code}; restarting in {self.backoff:.0f} s (log: {self.log})")
        self.backoff = min(2 * self.backoff, MAX_BACKOFF)

    def status(self) -> dict:
        """What `yinqi status` shows of it."""
        running = self.restart_at is None and self.process is not None and self.process.poll() is None
        return {
            "name": self.name,
            "state": "running" if running else "restarting",
            "pid": self.process.pid if running else None,
            "restarts": self.restarts,
            "up_seconds": round(time.monotonic() - self.started_at) if running else 0,
            "restart_in": round(max(self.restart_at - time.monotonic(), 0)) if self.restart_at is not None else None,
            "metrics_port": self.metrics_port,
            "log": str(self.log),
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()


def status_path(settings: Settings) -> Path:
    """Where a running demo keeps what it runs, for `yinqi status`."""
    return settings.home / "demo-status.json"


def write_status(path: Path, settings: Settings, services: list[Service]) -> None:
    """The demo's services as they stand, written whole (a reader never sees half a file)."""
    doc = {
        "pid": os.getpid(),
        "written_at": time.time(),
        "rpc_url": settings.rpc_url,
        "api_url": f"http://127.0.0.1:{settings.api_port}",
        "services": [service.status() for service in services],
    }
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(doc, indent=2))
    partial.replace(path)


def _await_ready(service: Service, offset: int) -> None:
    """Until an IoT oracle prints its ready line (past `offset` in its log), exits, or a minute passes."""
    deadline = time.monotonic() + ORACLE_READY_WAIT
    while time.monotonic() < deadline and service.process.poll() is None:
        if b'"ready": true' in service.log.read_bytes()[offset:]:
            return
        time.sleep(0.2)


def deployed_here(settings: Settings) -> bool:
    """Whether the chain at the demo's address carries this home's deployment (its manifest's contracts
    are there): a chain someone else started, or another checkout's demo, is not deployed onto."""
    try:
        manifest = Manifest.load(Manifest.path_for(settings, DEV_CHAIN_ID))
    except ManifestError:
        return False
    w3 = connect(settings.rpc_url, settings.rpc_timeout)
    return all(w3.eth.get_code(Web3.to_checksum_address(r.address)) for r in manifest.contracts.values())


def await_credit_line(w3: Web3, manifest: Manifest, merchant_id: str, stop: threading.Event) -> str | None:
    """Wait (up to :data:`CREDIT_LINE_WAIT` seconds) for the credit operators to co-sign the demo
    merchant's line; then the bank confirms a held raise. What to tell the user, or None."""
    deadline = time.monotonic() + CREDIT_LINE_WAIT
    while time.monotonic() < deadline and not stop.is_set():
        if message := credit_line_granted(w3, manifest, merchant_id):
            return message
        stop.wait(1.0)
    return None


def describe(settings: Settings, manifest: Manifest, url: str) -> str:
    """What to tell a person: where the chain is and which dev accounts to import into a wallet."""
    names = {m.index: m.name for m in DEMO_CAST} | {AUDITOR_INDEX: "Auditor 审计 (read-only)"} | OTHER_OPERATORS
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
        "publish to device/<id>/data; three IoT oracle operators co-sign their usage and risk flags to their "
        f"leases, and three credit oracle operators the merchants' lines ({DEMO_QUORUM} of 3 signatures per "
        "report; logs: credit-oracle-<n>.log, iot-oracle-<n>.log).",
        "",
        "Press Ctrl-C to stop; the chain keeps its state for the next start.",
    ]
    return "\n".join(lines)


def run_demo(settings: Settings, stop: threading.Event, echo: Callable[[str], None] = print) -> None:
    """Bring everything up, tell the user how to connect, and hold until ``stop`` is set."""
    chain, broker, services = None, None, []
    try:
        running = rpc_chain_id(settings.rpc_url)
        if running is None:
            chain = LocalChain(settings)
            chain.start()
        elif running != DEV_CHAIN_ID:
            raise ChainError(f"{settings.rpc_url} is chain {running}, not the local dev chain {DEV_CHAIN_ID}")
        elif not deployed_here(settings):
            raise ChainError(
                f"a chain already listens at {settings.rpc_url} that this demo did not deploy to (no live contracts "
                f"from {Manifest.path_for(settings, running)} on it): stop it, give the demo another port "
                "(YINQI_CHAIN_PORT), or, if it is this checkout's own chain, run `yinqi deploy` first"
            )
        else:
            echo(f"Using the local chain already running at {settings.rpc_url}.")
        settings = replace(settings, credit_oracle_quorum=DEMO_QUORUM, iot_oracle_quorum=DEMO_QUORUM)
        result = deploy(settings, environ=demo_environ(os.environ))
        w3 = connect(settings.rpc_url, settings.rpc_timeout)
        fund_operators(w3)
        seeded = seed(w3, result.manifest)
        if seed_supply_chain(w3, result.manifest):
            echo("Seeded a supply chain: receivables issued, split down three tiers, two financed.")
        merchant_id, credit = prepare_credit(settings, w3, operators=len(CREDIT_OPERATORS))
        broker = LocalBroker(settings.home / "mosquitto", settings.mqtt_port)
        broker.start()
        services = start_services(settings, w3, result.manifest, credit)
        echo(f"Waiting for the credit oracle operators to co-sign merchant {merchant_id}'s line…")
        if line := await_credit_line(w3, result.manifest, merchant_id, stop):
            echo(line)
        else:
            echo("No credit line yet: see credit-oracle-<n>.log under the demo's home.")
        if result.deployed:
            echo(f"Deployed: {', '.join(result.deployed)}")
        if seeded:
            echo(f"Onboarded and funded {len(seeded)} demo participants.")
        echo(describe(settings, result.manifest, settings.rpc_url))
        status, written = status_path(settings), 0.0
        while not stop.wait(0.5):
            if chain is not None and chain.exit_code() is not None:
                raise ChainError("the local chain stopped unexpectedly; see .yinqi/anvil.log")
            if broker.exit_code() is not None:
                raise YinqiError(f"the demo's MQTT broker stopped unexpectedly; see {broker.home / 'mosquitto.log'}")
            for service in services:
                service.watch(echo)
            if time.monotonic() - written >= STATUS_EVERY:
                write_status(status, settings, services)
                written = time.monotonic()
    finally:
        if services:
            status_path(settings).unlink(missing_ok=True)
        for service in services:
            service.stop()
        for service in services:
            service.wait(30)
        if broker is not None:
            broker.stop()
        if chain is not None:
            chain.stop()
            echo("Stopped the local chain (state saved).")
