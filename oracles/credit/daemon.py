"""The credit oracle: score consenting merchants and put changed limits on chain, exactly once.

Each cycle: read the merchants' monthly data (CSVs in a directory, or SQLite), keep only merchants whose
EIP-712 consent verifies, score them (model + policy), and publish the lines that differ from what
is on chain or pending, in batches, through the gateway. The outbox makes a crash or ``kill -9`` at
any point followed by a restart lose and duplicate nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from web3 import Web3

from backend.core.accounts import signer_from_spec
from backend.core.chain import connect
from backend.core.codec import credit_payload, pack_credit_word
from backend.core.config import Settings
from backend.core.feeds import CREDIT_FEED
from backend.core.manifest import Manifest
from oracles.credit.consent import ConsentError, from_document, verify
from oracles.credit.features import merchant_features
from oracles.credit.model import CreditModel
from oracles.credit.policy import DEFAULT_POLICY, Policy
from oracles.credit.scoring import decide
from oracles.errors import DataError
from oracles.gateway import ReportPublisher
from oracles.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreditOracleConfig:
    data_dir: Path  # CSVs of the article's monthly merchant rows, or a SQLite file (table merchant_months)
    consents_dir: Path  # one JSON file per merchant: the consent fields and its signature
    model_dir: Path
    policy: Path = DEFAULT_POLICY
    state: Path = Path(".yinqi/credit-oracle.sqlite")
    reasons: Path | None = None  # each merchant's decision and reasons, for the API; default beside `state`
    signer: str = "dev:7"  # dev:N on the local chain; env:NAME or keystore:PATH elsewhere
    interval: float = 60.0  # seconds between cycles
    batch_size: int = 100
    once: bool = False  # one cycle, then stop
    settings: Settings = field(default_factory=Settings.from_env)


@dataclass
class CycleReport:
    merchants: int = 0
    consented: int = 0
    refused_consents: int = 0
    changed: int = 0
    reports: int = 0


class CreditOracle:
    def __init__(self, config: CreditOracleConfig) -> None:
        self.config = config
        self.w3 = connect(config.settings.rpc_url, config.settings.rpc_timeout)
        self.chain_id = self.w3.eth.chain_id
        self.manifest = Manifest.for_chain(config.settings, self.w3)
        self.model = CreditModel.load(config.model_dir)
        self.policy = Policy.load(config.policy)
        self.outbox = Outbox(config.state)
        signer = signer_from_spec(config.signer, self.chain_id)
        self.publisher = ReportPublisher(self.w3, self.manifest, signer, self.outbox, CREDIT_FEED)
        if recovered := self.publisher.recover():
            log.info("settled %d report(s) left pending by the last run", recovered)

    def close(self) -> None:
        self.outbox.close()

    def cycle(self) -> CycleReport:
        report = CycleReport()
        history = _read_history(self.config.data_dir)
        consents = self._valid_consents(report)
        report.merchants = history["merchant_id"].nunique() if not history.empty else 0
        history = history[history["merchant_id"].astype(str).isin(consents)]
        report.consented = history["merchant_id"].nunique()
        if history.empty:
            return report
        decisions = decide(self.model, self.policy, history)
        features = merchant_features(history)
        known = self.outbox.confirmed_values(CREDIT_FEED) | self.outbox.pending_values(CREDIT_FEED)
        changed: list[tuple[str, int, bytes]] = []
        for d in decisions:
            address = consents[d.merchant_id]
            word = pack_credit_word(address, int(d.decision.limit), d.decision.score, d.decision.rate_bps)
            if known.get(address) != hex(word):
                changed.append((address, word, _feature_leaf(address, features.loc[d.merchant_id])))
        report.changed = len(changed)
        self._write_reasons(decisions, consents)
        size = self.config.batch_size
        for start in range(0, len(changed), size):
            batch = changed[start : start + size]
            payload = credit_payload(
                bytes.fromhex(self.model.sha256),
                merkle_root([leaf for *_, leaf in batch]),
                (word for _, word, _ in batch),
            )
            self.publisher.publish(payload, {address: hex(word) for address, word, _ in batch})
            report.reports += 1
        return report

    def _write_reasons(self, decisions, consents: dict[str, str]) -> None:
        """Each scored merchant's decision and its top reasons, for the API to show the merchant
        (off chain: the reasons name the merchant's own figures). Written whole, then renamed."""
        doc = {
            consents[d.merchant_id].lower(): {
                "merchant_id": d.merchant_id,
                "score": d.decision.score,
                "limit": d.decision.limit,
                "rate_bps": d.decision.rate_bps,
                "model_sha256": d.model_sha256,
                "policy_sha256": d.policy_sha256,
                "reasons": [
                    {"feature": r.feature, "value": r.value, "contribution": round(r.contribution, 4)}
                    for r in d.reasons
                ],
            }
            for d in decisions
        }
        path = self.config.reasons or self.config.state.with_name("credit-reasons.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1, default=str))
        tmp.replace(path)

    def _valid_consents(self, report: CycleReport) -> dict[str, str]:
        """merchant_id → wallet address, for every consent that verifies now."""
        now = self.w3.eth.get_block("latest")["timestamp"]
        valid = {}
        for path in sorted(self.config.consents_dir.glob("*.json")):
            try:
                consent, signature = from_document(json.loads(path.read_text()))
                verify(consent, signature, now=now, chain_id=self.chain_id)
            except (ValueError, KeyError, TypeError, ConsentError) as exc:
                report.refused_consents += 1
                log.warning("consent %s refused: %s", path.name, exc)
                continue
            valid[consent.merchant_id] = Web3.to_checksum_address(consent.merchant)
        return valid


SQLITE_TABLE = "merchant_months"
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def _read_history(source: Path) -> pd.DataFrame:
    """The merchants' monthly rows: every CSV in a directory, or the table `merchant_months` of a
    SQLite file (the article's columns either way)."""
    if source.is_file() and source.suffix in SQLITE_SUFFIXES:
        try:
            with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as db:
                history = pd.read_sql_query(f"SELECT * FROM {SQLITE_TABLE}", db)
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            raise DataError(f"cannot read table {SQLITE_TABLE} from {source} ({exc})") from None
    else:
        frames = []
        for path in sorted(source.glob("*.csv")):
            try:
                frames.append(pd.read_csv(path))
            except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
                log.warning("skipping unreadable %s: %s", path.name, str(exc).splitlines()[0])
        if not frames:
            return pd.DataFrame(columns=["merchant_id"])
        history = pd.concat(frames, ignore_index=True)
    if "merchant_id" not in history.columns:
        raise DataError(f"merchant data in {source} has no merchant_id column")
    return history


def _feature_leaf(address: str, row: pd.Series) -> bytes:
    """A merchant's commitment: keccak of its address and its features as canonical JSON."""
    values = {k: (None if pd.isna(v) else round(float(v), 9)) for k, v in row.items()}
    return Web3.keccak(text=json.dumps({"merchant": address, "features": values}, sort_keys=True))


def merkle_root(leaves: list[bytes]) -> bytes:
    """Root over sorted pairs (OpenZeppelin MerkleProof's convention); one leaf is its own root."""
    level = list(leaves) or [bytes(32)]
    while len(level) > 1:
        pairs = [level[i : i + 2] for i in range(0, len(level), 2)]
        level = [Web3.keccak(b"".join(sorted(p))) if len(p) == 2 else p[0] for p in pairs]
    return bytes(level[0])


async def run(config: CreditOracleConfig, *, shutdown_trigger: asyncio.Event | None = None) -> None:
    """Cycle until SIGINT/SIGTERM (or `shutdown_trigger`); a cycle in flight finishes first."""
    stop = shutdown_trigger or asyncio.Event()
    if shutdown_trigger is None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    oracle = await asyncio.to_thread(CreditOracle, config)
    try:
        while not stop.is_set():
            result = await asyncio.to_thread(oracle.cycle)
            log.info("cycle: %s", result)
            print(json.dumps({"cycle": result.__dict__}), flush=True)
            if config.once:
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=config.interval)
    finally:
        oracle.close()
