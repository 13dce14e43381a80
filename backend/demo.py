"""``yinqi demo``: everything up on the embedded defaults, seeded with a realistic cast.

Now: the local chain, the contracts, the demo participants onboarded and funded, a supply chain in
motion, a scored merchant, and a leased fleet reporting over the demo's own MQTT broker through the
IoT oracle, and the API serving the web UI.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from backend.core.accounts import load_signer
from backend.core.chain import connect, rpc_chain_id, send
from backend.core.config import DEV_CHAIN_ID, Settings
from backend.core.dev_accounts import DEV_ACCOUNT_COUNT, dev_account
from backend.core.errors import ChainError
from backend.core.manifest import Manifest
from backend.local.broker import LocalBroker
from backend.local.node import LocalChain, die_with_parent
from backend.services.deploy import deploy
from backend.services.pool import deposit
from backend.services.receivables import ReceivablesService

log = logging.getLogger(__name__)

TOKEN_UNIT = 10**6  # SettlementToken has 6 decimals


@dataclass(frozen=True)
class Member:
    index: int  # dev account number
    name: str
    roles: tuple[str, ...]  # names of ParticipantRegistry.ROLE_* constants, without the prefix
    funding: int  # whole DCNY minted at onboarding


DEMO_CAST: tuple[Member, ...] = (
    Member(0, "Yinqi Demo Bank 银企示范银行", ("BANK",), 10_000_000),
    Member(1, "Huaxia Heavy Machinery 华夏重工 (core enterprise, lessor)", ("CORE_ENTERPRISE", "SUPPLIER"), 5_000_000),
    Member(2, "Jinggong Hydraulics 精工液压 (tier-1 supplier)", ("SUPPLIER",), 100_000),
    Member(3, "Hengtong Castings 恒通铸造 (tier-2 supplier)", ("SUPPLIER",), 50_000),
    Member(4, "Lvyuan Steel 绿源钢材 (tier-3 supplier)", ("SUPPLIER",), 20_000),
    Member(5, "Chenxi Online Store 晨曦网店 (merchant)", ("MERCHANT",), 10_000),
    Member(6, "Dongfang Construction 东方建工 (lessee)", ("LESSEE", "CORE_ENTERPRISE"), 200_000),
    Member(7, "Credit oracle operator 信用预言机", ("CREDIT_ORACLE",), 0),
    Member(8, "IoT oracle operator 物联网预言机", ("IOT_ORACLE",), 0),
)
AUDITOR_INDEX = 9  # auditors need no role: they only read
BANK, CORE, TIER1, TIER2, TIER3 = (dev_account(i) for i in range(5))
LESSOR, LESSEE = CORE, dev_account(6)  # the machinery maker leases its excavators to a builder
DAY = 24 * 3600


def seed(w3: Web3, manifest: Manifest) -> list[str]:
    """Onboard and fund the demo cast; members already onboarded are left as they are."""
    registry = manifest.contract(w3, "ParticipantRegistry")
    token = manifest.contract(w3, "SettlementToken")
    bank = load_signer("BANK", w3.eth.chain_id, dev_index=0)
    decoder = manifest.revert_decoder()
    onboarded = []
    for member in DEMO_CAST:
        address = dev_account(member.index).address
        if registry.functions.participant(address).call()[0] != 0:
            continue
        roles = 0
        for role in member.roles:
            roles |= getattr(registry.functions, f"ROLE_{role}")().call()
        kyc_hash = Web3.keccak(text=f"demo KYC dossier: {member.name}")
        send(
            w3,
            bank,
            registry.functions.onboard(address, roles, kyc_hash, member.name),
            decoder=decoder,
            what=f"onboarding {member.name}",
        )
        if member.funding:
            send(
                w3,
                bank,
                token.functions.mint(address, member.funding * TOKEN_UNIT),
                decoder=decoder,
                what=f"funding {member.name}",
            )
        onboarded.append(member.name)
    return onboarded


def seed_supply_chain(w3: Web3, manifest: Manifest) -> bool:
    """A supply chain in motion: the bank funds its pool and sets the core enterprise's terms; the
    core issues to its tier-1 supplier, who passes part down to tier 2, who passes part to tier 3;
    tier 3 and tier 1 finance theirs. Only on a chain with no receivables yet; True if it seeded."""
    service = ReceivablesService(w3, manifest)
    if service.contract.functions.nextId().call() != 0:
        return False
    now = w3.eth.get_block("latest")["timestamp"]
    deposit(w3, manifest, BANK, 5_000_000 * TOKEN_UNIT)
    service.set_debtor_terms(BANK, CORE.address, 3_000_000 * TOKEN_UNIT, 550)  # 5.5 % a year
    invoice = Web3.keccak(text="invoice HX-2026-0815: hydraulic cylinders, 400 units")
    big = service.issue(CORE, TIER1.address, 800_000 * TOKEN_UNIT, now + 90 * DAY, invoice, "PO-2026-0815")
    small = service.issue(
        CORE,
        TIER1.address,
        300_000 * TOKEN_UNIT,
        now + 60 * DAY,
        Web3.keccak(text="invoice HX-2026-0822: seals"),
        "PO-2026-0822",
    )
    _, tier2_part = service.split(
        TIER1, big, [(TIER1.address, 600_000 * TOKEN_UNIT), (TIER2.address, 200_000 * TOKEN_UNIT)]
    )
    _, tier3_part = service.split(
        TIER2, tier2_part, [(TIER2.address, 120_000 * TOKEN_UNIT), (TIER3.address, 80_000 * TOKEN_UNIT)]
    )
    service.finance(TIER3, tier3_part)
    service.finance(TIER1, small)
    return True


def seed_credit(settings: Settings, w3: Web3) -> str | None:
    """Train a credit model on synthetic merchants (once), have the demo merchant sign its consent,
    and run one credit-oracle cycle so the merchant has a line. What to tell the user, or None."""
    import json

    from oracles.credit import train
    from oracles.credit.consent import Consent, sign, to_document
    from oracles.credit.daemon import CreditOracle, CreditOracleConfig
    from oracles.credit.synthetic import generate

    home = settings.home / "credit"
    model_dir, data_dir, consents_dir = home / "model", home / "data", home / "consents"
    for directory in (data_dir, consents_dir):
        directory.mkdir(parents=True, exist_ok=True)
    if not (model_dir / "model.json").exists():
        generate(2_000, 12, seed=42).to_csv(home / "training.csv", index=False)
        train.save(train.train(train.load(home / "training.csv", "default_flag"), progress=False), model_dir)
    if not (data_dir / "merchants.csv").exists():
        generate(50, 12, seed=7).to_csv(data_dir / "merchants.csv", index=False)
    merchant, merchant_id = dev_account(5), _best_merchant(model_dir, data_dir / "merchants.csv")
    consent_file = consents_dir / "demo-merchant.json"
    now = w3.eth.get_block("latest")["timestamp"]
    consent = Consent(merchant.address, merchant_id, now + 365 * DAY, 1, w3.eth.chain_id)
    consent_file.write_text(json.dumps(to_document(consent, sign(consent, merchant))))
    config = CreditOracleConfig(
        data_dir=data_dir,
        consents_dir=consents_dir,
        model_dir=model_dir,
        state=home / "outbox.sqlite",
        reasons=home / "reasons.json",
        signer="dev:7",
        settings=settings,
    )
    oracle = CreditOracle(config)
    try:
        result = oracle.cycle()
        credit_line = oracle.manifest.contract(w3, "CreditLine")
        if credit_line.functions.lineOf(merchant.address).call()[5]:  # a raise beyond the bank's step: held
            send(
                w3,
                BANK,
                credit_line.functions.confirmLimit(merchant.address),
                decoder=oracle.manifest.revert_decoder(),
                what="confirming the demo merchant's limit",
            )  # the bank's credit officer approves it
        line = credit_line.functions.lineOf(merchant.address).call()
    finally:
        oracle.close()
    if not result.reports:
        return None
    return f"Credit oracle scored merchant {merchant_id} (#5): score {line[1]}, limit {line[0] // TOKEN_UNIT:,} DCNY."


DEMO_RULES = {"idle_hours": 0.03}  # the demo's idle device is flagged within two minutes, not a day


def start_services(settings: Settings, w3: Web3, manifest: Manifest) -> list[subprocess.Popen]:
    """Lease the demo fleet (one device per scenario), then run the IoT oracle and the simulator
    against the demo's broker, and the API with the web UI, as child processes. Their logs go to
    $YINQI_HOME/<name>.log."""
    from backend.services.leasing import LeaseService
    from oracles.iot.simulator import fleet, rules_toml

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
        ],
        "api": [yinqi, "api", "--port", str(settings.api_port)],
    }
    children = []
    for name, command in commands.items():
        with open(settings.home / f"{name}.log", "ab") as log_file:
            children.append(
                subprocess.Popen(
                    command,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=die_with_parent,
                )
            )
        time.sleep(1.0)  # the oracle subscribes before the fleet publishes
    return children


def _best_merchant(model_dir, data_file) -> str:
    """The synthetic merchant the model likes best: the demo merchant's data, so it gets a line to draw on."""
    import pandas as pd

    from oracles.credit.model import CreditModel
    from oracles.credit.policy import Policy
    from oracles.credit.scoring import decide

    decisions = decide(CreditModel.load(model_dir), Policy.load(), pd.read_csv(data_file))
    return max(decisions, key=lambda d: (d.decision.limit, d.decision.score, d.merchant_id)).merchant_id


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
