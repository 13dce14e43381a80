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
from collections import Counter
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
from backend.core.money import UNIT
from oracles.credit.consent import ConsentError, read_file, verify
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
    capped: int = 0  # decisions above the bank's on-chain bounds, sent capped
    heartbeats: int = 0  # unchanged lines re-sent before their score would go stale
    refused_by_reason: dict[str, int] = field(default_factory=dict)  # see oracles.credit.consent.Refusal
    changed: int = 0
    reports: int = 0


class CreditOracle:
    def __init__(self, config: CreditOracleConfig) -> None:
        self.config = config
        self.w3 = connect(config.settings.rpc_url, config.settings.rpc_timeout)
        self.chain_id = self.w3.eth.chain_id
        self.manifest = Manifest.for_chain(config.settings, self.w3)
        self.credit_line = self.manifest.contract(self.w3, "CreditLine")
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
        history["merchant_id"] = history["merchant_id"].astype(str).str.strip()  # "7" and 7 are one merchant
        now = self.w3.eth.get_block("latest")["timestamp"]  # the chain's time, read once per cycle
        consents = self._valid_consents(report, now)
        report.merchants = history["merchant_id"].nunique() if not history.empty else 0
        history = history[history["merchant_id"].isin(consents)]
        report.consented = history["merchant_id"].nunique()
        if history.empty:
            return report
        decisions = decide(self.model, self.policy, history)
        features = merchant_features(history)
        pending = self.outbox.pending_values(CREDIT_FEED)
        known = self.outbox.confirmed_values(CREDIT_FEED) | pending
        sent_as_of = self.outbox.confirmed_as_of(CREDIT_FEED)
        due = self._heartbeat_due(now)  # a line last scored before this is re-sent even when unchanged
        changed: list[tuple[str, int, bytes]] = []
        bounds = self._bounds()
        for d in decisions:
            address = consents[d.merchant_id]
            limit, rate = self._within(bounds, d, report)
            word = pack_credit_word(address, limit, d.decision.score, rate)
            heartbeat = known.get(address) == hex(word) and address not in pending and sent_as_of[address] < due
            if known.get(address) != hex(word) or heartbeat:
                changed.append((address, word, _feature_leaf(address, features.loc[d.merchant_id])))
                report.heartbeats += heartbeat
        changed.sort(key=lambda item: int(item[0], 16))  # CreditLine takes a report's merchants ascending
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

    def _heartbeat_due(self, now: int) -> int:
        """The as-of time before which an unchanged line is re-sent: half the CreditLine's maximum
        score age before `now`, so a merchant whose score does not change never finds its line stale."""
        return now - self.credit_line.functions.maxScoreAge().call() // 2

    def _bounds(self) -> tuple[int, int]:
        """The bank's bounds on the chain now: the largest limit (whole tokens) and rate (bps) a report
        may set. A word beyond them would make the CreditLine refuse the whole report."""
        line = self.credit_line.functions
        return line.maxLimit().call() // UNIT, line.maxRateBps().call()

    @staticmethod
    def _within(bounds: tuple[int, int], d, report: CycleReport) -> tuple[int, int]:
        """The decision's limit and rate, capped at the bank's bounds (a policy above them is counted
        and logged, never sent: one merchant's word must not block a whole report)."""
        (max_limit, max_rate), limit, rate = bounds, int(d.decision.limit), d.decision.rate_bps
        if limit > max_limit or rate > max_rate:
            log.warning(
                "merchant %s: policy gives limit %d at %d bps, above the bank's bounds (%d, %d bps): capped",
                d.merchant_id,
                limit,
                rate,
                max_limit,
                max_rate,
            )
            report.capped += 1
        return min(limit, max_limit), min(rate, max_rate)

    def _valid_consents(self, report: CycleReport, now: int) -> dict[str, str]:
        """merchant_id → wallet address, for every consent that verifies now and claims an id and a
        wallet no other consent claims. A bad file is refused for its merchant alone: counted by
        reason, logged in one line; the others go on."""
        claims: list[tuple[str, str, str]] = []  # (file, merchant id, wallet) of every consent that verifies
        for path in sorted(self.config.consents_dir.glob("*.json")):
            try:
                consent, signature = read_file(path)
                verify(consent, signature, now=now, chain_id=self.chain_id)
                address = Web3.to_checksum_address(consent.merchant)
            except ConsentError as exc:
                reason = str(exc.reason)
                log.warning("consent %s refused (%s): %s", path.name, reason, str(exc).replace("\n", " "))
            except Exception:  # a bug of ours, not the file's fault: still only this merchant's
                reason = "unexpected"
                log.exception("consent %s refused: checking it failed unexpectedly", path.name)
            else:
                claims.append((path.name, consent.merchant_id, address))
                continue
            report.refused_consents += 1
            report.refused_by_reason[reason] = report.refused_by_reason.get(reason, 0) + 1
        # one merchant id, one wallet: a contested id or wallet is refused for every claimant (no file
        # wins by its name, and a report never names a wallet twice)
        ids = Counter(merchant_id for _, merchant_id, _ in claims)
        wallets = Counter(address for _, _, address in claims)
        valid = {}
        for name, merchant_id, address in claims:
            if ids[merchant_id] > 1 or wallets[address] > 1:
                log.warning("consent %s refused (contested): %s or %s is claimed twice", name, merchant_id, address)
                report.refused_consents += 1
                report.refused_by_reason["contested"] = report.refused_by_reason.get("contested", 0) + 1
            else:
                valid[merchant_id] = address
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
    """Cycle until SIGINT/SIGTERM (or `shutdown_trigger`); a cycle in flight finishes first. A cycle
    that fails is logged with its traceback and counted, and the next one runs on time (with `once`,
    the failure is the run's)."""
    stop = shutdown_trigger or asyncio.Event()
    if shutdown_trigger is None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    oracle = await asyncio.to_thread(CreditOracle, config)
    failed = 0
    try:
        while not stop.is_set():
            try:
                result = await asyncio.to_thread(oracle.cycle)
            except Exception as exc:
                if config.once:
                    raise
                failed += 1
                log.exception(
                    "cycle failed (%d failed cycle(s) so far); the next one in %.1fs", failed, config.interval
                )
                print(json.dumps({"cycle_failed": f"{type(exc).__name__}: {exc}", "failed_cycles": failed}), flush=True)
            else:
                log.info("cycle: %s", result)
                print(json.dumps({"cycle": result.__dict__}), flush=True)
            if config.once:
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=config.interval)
    finally:
        oracle.close()
