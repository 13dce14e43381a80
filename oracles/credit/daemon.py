"""The credit oracle: score consenting merchants and put changed limits on chain, exactly once.

Each cycle: read the merchants' monthly data (CSVs in a directory, or SQLite), keep only merchants whose
EIP-712 consent verifies, score them (model + policy), and publish the lines that differ from what
is on chain or pending, in batches, through the gateway. The outbox makes a crash or ``kill -9`` at
any point followed by a restart lose and duplicate nothing.

With a co-signing broker (k-of-n, :mod:`oracles.cosign`) each cycle also reads the reports the other
operators landed, records what it would send (:class:`~oracles.credit.agree.CreditObservation`, what
it signs for other leaders), and publishes only in the slots it leads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
import threading
import time
from contextlib import closing, suppress
from dataclasses import dataclass, field
from functools import partial
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
from oracles.cosign import CoSigner, NoQuorum, NotLeader, Proposal, Verdict
from oracles.credit.agree import (
    CreditObservation,
    ObservedLine,
    applied_items,
    check_credit,
    merkle_root,
)
from oracles.credit.consent import ConsentError, Refusal, read_file, verify
from oracles.credit.features import merchant_features
from oracles.credit.identity import ConsentLedger, ConsentSeen, MerchantRecords, lapse_of
from oracles.credit.model import CreditModel
from oracles.credit.policy import DEFAULT_POLICY, Policy
from oracles.credit.scoring import decide
from oracles.errors import DataError
from oracles.gateway import SEND_MARGIN, ReportPublisher, ReportRejected, too_old
from oracles.metrics import OracleMetrics
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
    metrics_port: int | None = None  # serve Prometheus metrics on this port (None: not served)
    metrics_host: str = "127.0.0.1"
    cosign_broker: str | None = None  # HOST:PORT of the operators' MQTT broker (None: signs alone, k = 1)
    round_seconds: float = 10.0  # a co-signing slot: each operator leads one in turn
    settings: Settings = field(default_factory=Settings.from_env)


@dataclass
class CycleReport:
    merchants: int = 0
    consented: int = 0
    refused_consents: int = 0
    capped: int = 0  # decisions above the bank's on-chain bounds, sent capped
    heartbeats: int = 0  # unchanged lines re-sent before their score would go stale
    lapsed: int = 0  # lines with a limit whose consent the chain says is over (handled as the policy says)
    unavailable: int = 0  # merchants once consenting whose consent file is missing or refused now: not scored
    newer_on_chain: int = 0  # lines left as they are: set on chain as of a time after their data's (a cut)
    stale: int = 0  # consenting merchants whose data is too old for the gateway: not scored
    refused_lines: int = 0  # lines the CreditLine refused (left out alone; the rest of their report went)
    refused_by_reason: dict[str, int] = field(default_factory=dict)  # see oracles.credit.consent.Refusal
    changed: int = 0
    reports: int = 0
    data_age: int | None = None  # seconds the oldest consenting merchant's data is behind the chain's clock
    led: bool = True  # this operator may publish this cycle (it signs alone, or leads the slot)
    unsigned: int = 0  # lines whose round ended without the quorum (or outside the slot): the cycle stopped


class CreditOracle:
    def __init__(self, config: CreditOracleConfig) -> None:
        self.config = config
        self.w3 = connect(config.settings.rpc_url, config.settings.rpc_timeout)
        self.manifest = Manifest.for_chain(config.settings, self.w3)
        self.credit_line = self.manifest.contract(self.w3, "CreditLine")
        self.records = MerchantRecords(self.w3, self.manifest)
        self.model = CreditModel.load(config.model_dir)
        self.policy = Policy.load(config.policy)
        self.outbox = Outbox(config.state)
        self.ledger = ConsentLedger(config.state)
        signer = signer_from_spec(config.signer, self.manifest.chain_id)
        self.metrics = OracleMetrics("credit_oracle")
        self.observation: CreditObservation | None = None  # the last cycle's: what this operator co-signs
        self._cycle_seconds = 0.0  # how long the last cycle took
        self.cosigner, self._sync_lock = None, threading.Lock()
        self._reads = Outbox(config.state)  # the co-signer's checks read what is confirmed on a connection of their own
        if config.cosign_broker:
            self.cosigner = CoSigner(
                self.w3,
                self.manifest,
                signer,
                CREDIT_FEED,
                config.state,
                self._agree,
                round_seconds=config.round_seconds,
                metrics=self.metrics,
            )
        self.publisher = ReportPublisher(
            self.w3, self.manifest, signer, self.outbox, CREDIT_FEED, metrics=self.metrics, cosigner=self.cosigner
        )
        if recovered := self.publisher.recover():
            log.info("settled %d report(s) left pending by the last run", recovered)

    def close(self) -> None:
        self.ledger.close()
        self.outbox.close()
        self._reads.close()

    def cycle(self) -> CycleReport:
        """One cycle (see the module's description); its counts also go to :attr:`metrics`."""
        report, started = CycleReport(), time.monotonic()
        try:
            return self._cycle(report)
        except (NoQuorum, NotLeader) as exc:
            log.warning("cycle stopped: %s", exc)
            return report
        except Exception:
            self.observation = None  # a failed cycle observed nothing: sign nothing until one succeeds
            raise
        finally:
            self._cycle_seconds = time.monotonic() - started
            self.metrics.rejected(report.refused_by_reason | {"line_refused": report.refused_lines})
            if report.data_age is not None:
                self.metrics.data_lag.set(report.data_age)

    def _cycle(self, report: CycleReport) -> CycleReport:
        history, written = _read_history(self.config.data_dir)
        now = self.w3.eth.get_block("latest")["timestamp"]  # the chain's time, read once per cycle
        consents = self._valid_consents(report, now)
        report.merchants = history["merchant_id"].nunique()
        consenting = history["merchant_id"].isin(consents)
        history, written = history[consenting], written[consenting]
        report.consented = history["merchant_id"].nunique()
        if self.cosigner is not None:
            self._sync()
            report.led = self.cosigner.leads_now()
        self.publisher.recover()  # nothing stays pending: what it drops as too old is recomputed below
        bounds = self._bounds()
        max_age = self.publisher.max_age()
        observed: dict[str, ObservedLine] = {}
        cuts = self._honour_lapses(set(consents.values()), now, bounds, max_age, report, observed)
        # each merchant's data is as of the newest file holding its rows (a file stamped in the future: now)
        as_of = written.groupby(history["merchant_id"]).max().clip(upper=now).astype(int)
        fresh = as_of[[not too_old(t, now, max_age) for t in as_of]] if len(as_of) else as_of
        report.data_age = int(now - as_of.min()) if len(as_of) else None
        report.stale = len(as_of) - len(fresh)
        if report.stale:
            log.warning(
                "%d merchant(s) have data older than the gateway takes (%d s): not scored this cycle",
                report.stale,
                max_age,
            )
        history = history[history["merchant_id"].isin(fresh.index)]
        decisions = decide(self.model, self.policy, history) if not history.empty else []
        features = merchant_features(history) if decisions else None
        known = self.outbox.confirmed_values(CREDIT_FEED)
        sent_as_of = self.outbox.confirmed_as_of(CREDIT_FEED)
        heartbeat_due = self._heartbeat_due(now)
        by_as_of: dict[int, list[tuple[str, int, bytes]]] = {}
        for d in decisions:
            address, data_as_of = consents[d.merchant_id], int(fresh[d.merchant_id])
            if sent_as_of.get(address, 0) > data_as_of:  # its line is newer than this data (a cut): wait
                report.newer_on_chain += 1
                continue
            limit, rate = self._within(bounds, d, report)
            word = pack_credit_word(address, limit, d.decision.score, rate)
            leaf = None
            if self.cosigner is not None:
                leaf = _feature_leaf(address, features.loc[d.merchant_id])
                observed[address] = ObservedLine(word, leaf, data_as_of)
            # a heartbeat re-sends an unchanged line once half its score age has passed — if newer data came
            heartbeat = known.get(address) == hex(word) and sent_as_of[address] < min(heartbeat_due, data_as_of)
            if known.get(address) != hex(word) or heartbeat:
                line = (address, word, leaf or _feature_leaf(address, features.loc[d.merchant_id]))
                by_as_of.setdefault(data_as_of, []).append(line)
                report.heartbeats += heartbeat
                report.changed += 1
        self._write_reasons(decisions, consents)
        # what this operator co-signs from now on: every line it would send, before it sends any
        self.observation = CreditObservation(bytes.fromhex(self.model.sha256), observed, time.monotonic())
        for batches in (cuts, by_as_of):
            for data_as_of, lines in sorted(batches.items()):
                self._publish(lines, data_as_of, report)
        return report

    def _agree(self, proposal: Proposal) -> Verdict:
        """The co-signer's check of another leader's proposal, against this operator's last observation
        and what the chain has confirmed up to now (synced first: a report landed since this cycle began
        is not signed again)."""
        observation = self.observation
        if observation is not None and time.monotonic() - observation.observed_at > self._observation_max_age():
            return Verdict(False, "stale_observation")  # our cycles stopped: we no longer know what we would send
        self._sync()
        return check_credit(observation, proposal, *self._reads.confirmed_of(CREDIT_FEED, proposal.items))

    def _observation_max_age(self) -> float:
        """How old an observation may be when co-signing: two cycles (interval and the last cycle's
        length) and a slot; older means this operator's cycles stopped or fail."""
        return 2 * (self.config.interval + self._cycle_seconds) + self.config.round_seconds

    def _sync(self) -> None:
        """Record the reports the other operators landed (from the cycle, or from the co-signer's checks)."""
        with self._sync_lock:
            self.publisher.sync(partial(applied_items, self.credit_line))

    def _publish(self, lines: list[tuple[str, int, bytes]], as_of: int, report: CycleReport) -> None:
        """Put `lines` (address, word, features leaf) on chain as of `as_of`, in batches of ascending
        merchants (as the CreditLine takes them); nothing while another operator leads the slot."""
        if not report.led:
            return
        lines = sorted(lines, key=lambda item: int(item[0], 16))
        size = self.config.batch_size
        for start in range(0, len(lines), size):
            self._send(lines[start : start + size], as_of, report)

    def _send(self, batch: list[tuple[str, int, bytes]], as_of: int, report: CycleReport) -> None:
        """One report of `batch`. If the CreditLine refuses it (a line out of its bounds or older than
        its score, say), the halves are sent apart until the refused line stands alone: it is left out,
        logged and counted, and every other line lands — one merchant never blocks the others."""
        payload = credit_payload(
            bytes.fromhex(self.model.sha256),
            merkle_root([leaf for *_, leaf in batch]),
            (word for _, word, _ in batch),
        )
        try:
            self.publisher.publish(payload, {address: hex(word) for address, word, _ in batch}, as_of=as_of)
        except (NoQuorum, NotLeader):
            report.unsigned += len(batch)
            raise
        except ReportRejected as exc:
            if len(batch) == 1:
                log.error("the line of %s was refused by the CreditLine and left out: %s", batch[0][0], exc)
                report.refused_lines += 1
                return
            half = len(batch) // 2
            self._send(batch[:half], as_of, report)
            self._send(batch[half:], as_of, report)
        else:
            report.reports += 1

    def _write_reasons(self, decisions, consents: dict[str, str]) -> None:
        """Each merchant's decision and its top reasons, for the API to show the merchant (off chain:
        the reasons name the merchant's own figures): this cycle's decisions, and the last ones of
        merchants that still consent but were not scored now; a wallet that no longer consents is
        dropped. Written whole, then renamed."""
        path = self.config.reasons or self.config.state.with_name("credit-reasons.json")
        consenting = {address.lower() for address in consents.values()}
        try:
            kept = {k: v for k, v in json.loads(path.read_text()).items() if k in consenting}
        except (OSError, ValueError, AttributeError):
            kept = {}
        doc = kept | {
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
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1, default=str))
        tmp.replace(path)

    def _honour_lapses(
        self,
        consenting: set[str],
        now: int,
        bounds: tuple[int, int],
        max_age: int,
        report: CycleReport,
        observed: dict[str, ObservedLine],
    ) -> dict[int, list[tuple[str, int, bytes]]]:
        """Lines with a limit whose consent the chain says is over — the merchant revoked it, it
        expired, the bank bound the id elsewhere (:func:`~oracles.credit.identity.lapse_of`) — as the
        policy's ``consent.on_revoke`` says: ``"zero"`` cuts the limit (and any held raise) to 0, score
        kept, rate kept within the bank's bound, so what is drawn stays owed; ``"freeze"`` sends
        nothing, and the line, never scored again, goes stale. Each line is read from the chain, so a
        lost state file forgets no revocation. A merchant whose consent file is only missing or
        refused now is not scored (its line goes stale in time) but not cut. The cuts, by as-of, for the
        cycle to publish; each goes to `observed` too, its leaf of chain facts only (the wallet, lapsed),
        so every operator computes the same."""
        seen = self.ledger.all()
        cuts: dict[int, list[tuple[str, int, bytes]]] = {}
        for wallet in sorted((set(seen) | self.records.revoked()) - consenting):
            why = lapse_of(seen.get(wallet), wallet, self.records, now)
            if why is None:
                report.unavailable += 1
                continue
            line = self.credit_line.functions.lineOf(wallet).call()
            if line.limit == 0 and line.pendingLimit == 0:
                self.ledger.forget(wallet)  # nothing (left) to cut
                continue
            report.lapsed += 1
            if self.policy.on_revoke != "zero":
                continue
            log.warning("the consent of %s is over (%s): its limit is cut to 0", wallet, why)
            word = pack_credit_word(wallet, 0, line.score, min(line.rateBps, bounds[1]))
            # as of the line's own score (the data it was scored on), or as late as the gateway needs
            as_of = max(line.scoredAt, now - max_age + 2 * SEND_MARGIN)
            leaf = Web3.keccak(text=json.dumps({"merchant": wallet, "consent": "lapsed"}))
            observed[wallet] = ObservedLine(word, leaf, line.scoredAt, cut=True)
            cuts.setdefault(as_of, []).append((wallet, word, leaf))
            report.changed += 1
        return cuts

    def _heartbeat_due(self, now: int) -> int:
        """The as-of time before which an unchanged line is re-sent: half the CreditLine's maximum
        score age before `now`, so a merchant whose score does not change never finds its line stale.
        As-of times are the data's, so a heartbeat refreshes a line only when newer data came: a dead
        data feed lets the lines go stale rather than keeping them fresh by re-stamping."""
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
        """merchant_id → wallet address, for every consent that verifies now — signed by the wallet the
        bank bound to that merchant id (one id, one wallet), for this deployment, with the merchant's
        current nonce. Copies of one merchant's consent count once (the latest expiry). A bad file is
        refused for its merchant alone: counted by reason, logged in one line; the others go on. What
        verified goes to the ledger."""
        self.records.refresh()
        credit_line = self.credit_line.address
        files = sorted(self.config.consents_dir.glob("*.json"))
        if not files:
            log.warning("no consent files in %s: no merchant can be scored", self.config.consents_dir)
        claims: dict[tuple[str, str], ConsentSeen] = {}  # (merchant id, wallet) → its latest consent
        for path in files:
            try:
                consent, signature = read_file(path)
                address = Web3.to_checksum_address(consent.merchant)
                nonce = self.records.nonce(address)
                verify(
                    consent, signature, now=now, chain_id=self.manifest.chain_id, credit_line=credit_line, nonce=nonce
                )
                if self.records.holder(consent.merchant_id) != address:
                    raise ConsentError(
                        f"the bank has not bound {address} to merchant id {consent.merchant_id[:40]!r}",
                        Refusal.NOT_BOUND,
                    )
            except ConsentError as exc:
                reason = str(exc.reason)
                log.warning("consent %s refused (%s): %s", path.name, reason, str(exc).replace("\n", " "))
            except Exception:  # a bug of ours, not the file's fault: still only this merchant's
                reason = "unexpected"
                log.exception("consent %s refused: checking it failed unexpectedly", path.name)
            else:
                merchant_id = consent.merchant_id.strip()
                seen = ConsentSeen(address, merchant_id, consent.nonce, consent.expires_at)
                if (old := claims.get((merchant_id, address))) is None or old.expires_at < seen.expires_at:
                    claims[(merchant_id, address)] = seen
                continue
            report.refused_consents += 1
            report.refused_by_reason[reason] = report.refused_by_reason.get(reason, 0) + 1
        self.ledger.record(list(claims.values()))
        return dict(claims.keys())  # merchant id → wallet: the registry binds them one to one


SQLITE_TABLE = "merchant_months"
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def _read_history(source: Path) -> tuple[pd.DataFrame, pd.Series]:
    """The merchants' monthly rows — every CSV in a directory, or the table `merchant_months` of a
    SQLite file (the article's columns either way), merchant ids as text ("00123" is not "123") with
    surrounding spaces stripped — and, per row, when the file it came from was last written, taken
    before reading it: the row is at least that new."""
    if source.is_file() and source.suffix in SQLITE_SUFFIXES:
        written = _sqlite_written(source)
        try:
            with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as db:
                history = pd.read_sql_query(f"SELECT * FROM {SQLITE_TABLE}", db)
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            raise DataError(f"cannot read table {SQLITE_TABLE} from {source} ({exc})") from None
        times = pd.Series(written, index=history.index, dtype=float)
    else:
        frames, stamps = [], []
        for path in sorted(source.glob("*.csv")):
            modified = path.stat().st_mtime
            try:
                frame = pd.read_csv(path, dtype={"merchant_id": str})
            except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
                log.warning("skipping unreadable %s: %s", path.name, str(exc).splitlines()[0])
            else:
                frames.append(frame)
                stamps.append(pd.Series(modified, index=frame.index, dtype=float))
        if not frames:
            return pd.DataFrame(columns=["merchant_id"]), pd.Series(dtype=float)
        history = pd.concat(frames, ignore_index=True)
        times = pd.concat(stamps, ignore_index=True)
    if "merchant_id" not in history.columns:
        raise DataError(f"merchant data in {source} has no merchant_id column")
    history["merchant_id"] = history["merchant_id"].astype(str).str.strip()
    return history, times


def _sqlite_written(path: Path) -> float:
    """When a SQLite file was last written: its write-ahead log counts (committed rows may wait there)."""
    wal = path.with_name(f"{path.name}-wal")
    return max(path.stat().st_mtime, wal.stat().st_mtime if wal.exists() else 0.0)


def _feature_leaf(address: str, row: pd.Series) -> bytes:
    """A merchant's commitment: keccak of its address and its features as canonical JSON."""
    values = {k: (None if pd.isna(v) else round(float(v), 9)) for k, v in row.items()}
    return Web3.keccak(text=json.dumps({"merchant": address, "features": values}, sort_keys=True))


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
    if config.metrics_port is not None:
        oracle.metrics.serve(config.metrics_port, config.metrics_host)
    failed = 0
    halt = None
    try:
        if oracle.cosigner is not None:
            host, _, port = config.cosign_broker.rpartition(":")
            await oracle.cosigner.start(host, int(port))
            halt = asyncio.create_task(oracle.cosigner.halt_when(stop))  # a round in flight ends at once
        while not stop.is_set():
            try:
                result = await asyncio.to_thread(oracle.cycle)
            except Exception as exc:
                if config.once:
                    raise
                failed += 1
                oracle.metrics.loop_errors.labels(loop="cycle").inc()
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
        if halt is not None:
            halt.cancel()
        if oracle.cosigner is not None:
            await oracle.cosigner.stop()
        oracle.close()
