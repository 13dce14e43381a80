"""The demo's cast and what it does on a fresh chain: participants onboarded and funded, a supply
chain in motion, a scored merchant. Idempotent enough to run on every ``yinqi demo`` start."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from web3 import Web3

from backend.core.accounts import load_signer
from backend.core.chain import send
from backend.core.config import Settings
from backend.core.dev_accounts import dev_account
from backend.core.enums import SETTLEMENT_DECIMALS, Role
from backend.core.manifest import Manifest
from backend.services.participants import bind_merchant_id
from backend.services.pool import deposit
from backend.services.receivables import ReceivablesService
from oracles.credit import train
from oracles.credit.consent import Consent, sign, to_document
from oracles.credit.daemon import CreditOracle, CreditOracleConfig
from oracles.credit.model import CreditModel
from oracles.credit.policy import Policy
from oracles.credit.scoring import decide
from oracles.credit.synthetic import generate

TOKEN_UNIT = 10**SETTLEMENT_DECIMALS


@dataclass(frozen=True)
class Member:
    index: int  # dev account number
    name: str
    roles: Role
    funding: int  # whole DCNY minted at onboarding


DEMO_CAST: tuple[Member, ...] = (
    Member(0, "Yinqi Demo Bank 银企示范银行", Role.BANK, 10_000_000),
    Member(
        1, "Huaxia Heavy Machinery 华夏重工 (core enterprise, lessor)", Role.CORE_ENTERPRISE | Role.SUPPLIER, 5_000_000
    ),
    Member(2, "Jinggong Hydraulics 精工液压 (tier-1 supplier)", Role.SUPPLIER, 100_000),
    Member(3, "Hengtong Castings 恒通铸造 (tier-2 supplier)", Role.SUPPLIER, 50_000),
    Member(4, "Lvyuan Steel 绿源钢材 (tier-3 supplier)", Role.SUPPLIER, 20_000),
    Member(5, "Chenxi Online Store 晨曦网店 (merchant)", Role.MERCHANT, 10_000),
    Member(6, "Dongfang Construction 东方建工 (lessee)", Role.LESSEE | Role.CORE_ENTERPRISE, 200_000),
    Member(7, "Credit oracle operator 信用预言机", Role.CREDIT_ORACLE, 0),
    Member(8, "IoT oracle operator 物联网预言机", Role.IOT_ORACLE, 0),
)
AUDITOR_INDEX = 9  # auditors need no role: they only read
# Each feed's operators in the demo, n = 3 co-signing k = 2 (the bank's own first, then two operators
# at other institutions, who need no place in the bank's registry): dev account numbers
CREDIT_OPERATORS, IOT_OPERATORS, DEMO_QUORUM = (7, 10, 11), (8, 12, 13), 2
OTHER_OPERATORS = {
    10: "Credit oracle operator 2 (a partner institution)",
    11: "Credit oracle operator 3 (a partner institution)",
    12: "IoT oracle operator 2 (a partner institution)",
    13: "IoT oracle operator 3 (a partner institution)",
}
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
        if registry.functions.participant(address).call().roles != 0:
            continue
        kyc_hash = Web3.keccak(text=f"demo KYC dossier: {member.name}")
        send(
            w3,
            bank,
            registry.functions.onboard(address, int(member.roles), kyc_hash, member.name),
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
    # 5.5 % a year on 90 % of the amount (a 10 % haircut), a 0.2 % fee
    service.set_debtor_terms(BANK, CORE.address, 3_000_000 * TOKEN_UNIT, 550, advance_rate_bps=9_000, fee_bps=20)
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


@dataclass(frozen=True)
class CreditInputs:
    """One credit operator's own copy of what it scores from: the model, the data platform's export and
    the consents it was sent."""

    model_dir: Path
    data_dir: Path
    consents_dir: Path


def prepare_credit(settings: Settings, w3: Web3, operators: int = 1) -> tuple[str, list[CreditInputs]]:
    """Train a credit model on synthetic merchants (once); the bank binds the demo merchant's wallet to
    its merchant id and the merchant signs its consent; each of `operators` credit operators gets its
    own copy of the model, the export and the consent (under ``credit/`` the first, the bank's own, and
    ``credit/operator-<n>/`` the others). The merchant id and each operator's inputs."""
    home = settings.home / "credit"
    trained = home / "model"
    if not (trained / "model.json").exists():
        home.mkdir(parents=True, exist_ok=True)
        generate(2_000, 12, seed=42).to_csv(home / "training.csv", index=False)
        train.save(train.train(train.load(home / "training.csv", "default_flag"), progress=False), trained)
    # the data platform's export, written again on every start (the same merchants): reports are as of the
    # data's time, and the gateway takes none older than a day
    export = generate(50, 12, seed=7)
    merchant, merchant_id = dev_account(5), _best_merchant(trained, export)
    manifest = Manifest.for_chain(settings, w3)
    bind_merchant_id(w3, manifest, BANK, merchant.address, merchant_id)
    credit_line = manifest.contract(w3, "CreditLine")
    now = w3.eth.get_block("latest")["timestamp"]
    consent = Consent(
        merchant=merchant.address,
        merchant_id=merchant_id,
        expires_at=now + 365 * DAY,
        nonce=credit_line.functions.consentNonce(merchant.address).call(),
        chain_id=manifest.chain_id,
        credit_line=credit_line.address,
    )
    document = json.dumps(to_document(consent, sign(consent, merchant)))
    inputs = []
    for n in range(1, operators + 1):
        base = home if n == 1 else home / f"operator-{n}"
        own = CreditInputs(trained if n == 1 else base / "model", base / "data", base / "consents")
        if own.model_dir != trained:
            shutil.copytree(trained, own.model_dir, dirs_exist_ok=True)
        for directory in (own.data_dir, own.consents_dir):
            directory.mkdir(parents=True, exist_ok=True)
        export.to_csv(own.data_dir / "merchants.csv", index=False)
        (own.consents_dir / "demo-merchant.json").write_text(document)
        inputs.append(own)
    return merchant_id, inputs


def seed_credit(settings: Settings, w3: Web3) -> str | None:
    """The demo merchant scored by one credit-oracle cycle, signed by the credit operator alone (a feed
    of quorum 1), and its limit confirmed by the bank: what to tell the user, or None."""
    merchant_id, (inputs,) = prepare_credit(settings, w3)
    home = settings.home / "credit"
    config = CreditOracleConfig(
        data_dir=inputs.data_dir,
        consents_dir=inputs.consents_dir,
        model_dir=inputs.model_dir,
        state=home / "outbox.sqlite",
        reasons=home / "reasons.json",
        signer="dev:7",
        settings=settings,
    )
    oracle = CreditOracle(config)
    try:
        result = oracle.cycle()
    finally:
        oracle.close()
    return credit_line_granted(w3, Manifest.for_chain(settings, w3), merchant_id) if result.reports else None


def credit_line_granted(w3: Web3, manifest: Manifest, merchant_id: str) -> str | None:
    """Once the demo merchant has a line: the bank confirms a raise held beyond its step (the one it
    reviewed), and what to tell the user; None while it has none."""
    merchant = dev_account(5)
    credit_line = manifest.contract(w3, "CreditLine")
    line = credit_line.functions.lineOf(merchant.address).call()
    if line.scoredAt == 0:
        return None
    if line.pendingLimit:  # beyond the bank's step: the bank's credit officer approves it
        send(
            w3,
            BANK,
            credit_line.functions.confirmLimit(merchant.address, line.pendingLimit),  # the raise the bank reviewed
            decoder=manifest.revert_decoder(),
            what="confirming the demo merchant's limit",
        )
        line = credit_line.functions.lineOf(merchant.address).call()
    limit = line.limit // TOKEN_UNIT
    return f"Credit oracle scored merchant {merchant_id} (#5): score {line.score}, limit {limit:,} DCNY."


def _best_merchant(model_dir: Path, export: pd.DataFrame) -> str:
    """The synthetic merchant the model likes best: the demo merchant's data, so it gets a line to draw on."""
    decisions = decide(CreditModel.load(model_dir), Policy.load(), export)
    return max(decisions, key=lambda d: (d.decision.limit, d.decision.score, d.merchant_id)).merchant_id
