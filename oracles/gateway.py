"""What every oracle shares to put a report on chain: EIP-712 signing by operators and submitting
through the OracleGateway (the payloads' words are packed by :mod:`backend.core.codec`). Each oracle
only knows its own domain."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import requests
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from backend.core.chain import event_logs, send
from backend.core.eip712 import typed_message
from backend.core.errors import ChainError, TransactionFailed
from backend.core.manifest import Manifest
from oracles.errors import OracleError
from oracles.failpoints import failpoint
from oracles.metrics import OracleMetrics

log = logging.getLogger(__name__)


class ReportRejected(OracleError):
    """The report's consumer refused its content (a revert of its own): the report was dropped."""


class AsOfRefused(OracleError):
    """A report's as-of time the gateway would refuse, or older than what is on chain for one of its
    items: nothing was recorded or sent."""


SEND_MARGIN = 60  # a report is sent only with this many seconds left before it is too old for the gateway


def too_old(as_of: int, now: int, max_age: int) -> bool:
    """Whether the gateway, taking reports up to `max_age` seconds old, might refuse one as of `as_of`
    by the time it lands (the chain's time is `now`)."""
    return as_of + max_age < now + SEND_MARGIN


def _error_name(message: str) -> str | None:
    """The custom error a :class:`TransactionFailed` message names (``… would revert: Name(args)``)."""
    found = re.search(r"revert(?:ed)?(?: in block \d+)?: (\w+)\(", message)
    return found.group(1) if found else None


# The gateway's EIP-712 domain name and version and its report type, as OracleGateway declares them
# (tests/contracts/test_report_signing.py holds them to the contract's eip712Domain() and reportDigest()).
DOMAIN_NAME, DOMAIN_VERSION = "Yinqi Oracle Gateway", "1"
REPORT_TYPE = [
    {"name": "feed", "type": "bytes32"},
    {"name": "sequence", "type": "uint64"},
    {"name": "asOf", "type": "uint64"},
    {"name": "payloadHash", "type": "bytes32"},
]


@dataclass(frozen=True)
class ReportDomain:
    """Where a report signature is valid: the chain and the gateway, pinned from the deployment
    manifest — never asked of the RPC node, which could otherwise have an operator sign anything."""

    chain_id: int
    gateway: str

    @classmethod
    def of(cls, manifest: Manifest) -> ReportDomain:
        return cls(manifest.chain_id, Web3.to_checksum_address(manifest.record("OracleGateway").address))


def report_message(domain: ReportDomain, feed: bytes, sequence: int, as_of: int, payload: bytes) -> SignableMessage:
    """The report as EIP-712 typed data, built here from its parts (the payload hashed here too)."""
    return typed_message(
        DOMAIN_NAME,
        DOMAIN_VERSION,
        domain.chain_id,
        domain.gateway,
        "Report",
        REPORT_TYPE,
        {"feed": feed, "sequence": sequence, "asOf": as_of, "payloadHash": Web3.keccak(payload)},
    )


def sign_report(
    domain: ReportDomain, feed: bytes, sequence: int, as_of: int, payload: bytes, signers: Sequence[LocalAccount]
) -> list[bytes]:
    """Operators' EIP-712 signatures over a report built here, in the ascending signer order the
    gateway requires. No bare hash is ever signed: the typed data is encoded from its parts."""
    message = report_message(domain, feed, sequence, as_of, payload)
    ordered = sorted(signers, key=lambda a: int(a.address, 16))
    return [bytes(signer.sign_message(message).signature) for signer in ordered]


def submit_report(
    w3: Web3,
    manifest: Manifest,
    submitter: LocalAccount,
    feed: bytes,
    sequence: int,
    as_of: int,
    payload: bytes,
    signatures: list[bytes],
) -> TxReceipt:
    gateway = manifest.contract(w3, "OracleGateway")
    call = gateway.functions.submit(feed, sequence, as_of, payload, signatures)
    return send(
        w3,
        submitter,
        call,
        decoder=manifest.revert_decoder(),
        what=f"submitting report {sequence}",
        chain_id=manifest.chain_id,  # the transaction is for the manifest's chain, whatever the node says
    )


class ReportPublisher:
    """Puts one feed's reports on chain exactly once, through the outbox (see :mod:`oracles.outbox`).

    A report's as-of time is the time of the data it was computed from, given to :meth:`publish` and
    signed unchanged on every retry; a report that aged out before it could be sent is dropped, never
    re-stamped. Its :attr:`metrics` count reports sent, confirmed and dropped, and the outbox's depth.
    Reports are signed by this oracle's operator key alone (k = 1), or, with a `cosigner`
    (:class:`oracles.cosign.CoSigner`), by the feed's quorum of operators, gathered before the report is
    recorded. A co-signed report is never renumbered (its signatures are for its sequence): if another
    report takes that sequence it is discarded, and its items are recomputed on the next cycle.
    """

    def __init__(
        self,
        w3: Web3,
        manifest: Manifest,
        signer: LocalAccount,
        outbox,
        feed: bytes,
        *,
        retries: int = 5,
        backoff: float = 0.5,
        metrics: OracleMetrics | None = None,
        cosigner=None,
    ) -> None:
        self.w3, self.manifest, self.signer, self.outbox, self.feed = w3, manifest, signer, outbox, feed
        self.cosigner = cosigner
        self.metrics = metrics or OracleMetrics("oracle")
        self.gateway = manifest.contract(w3, "OracleGateway")
        self.domain = ReportDomain.of(manifest)
        self._retries, self._backoff = retries, backoff
        if (node_chain := self._retry(lambda: self.w3.eth.chain_id)) != manifest.chain_id:
            raise OracleError(
                f"the RPC node says chain {node_chain}, but the deployment manifest is for chain "
                f"{manifest.chain_id}: refusing to sign for it"
            )
        if not self._retry(self.gateway.functions.isOperator(feed, signer.address).call):
            raise OracleError(
                f"{signer.address} is not an oracle operator of feed 0x{feed.hex()} on the gateway "
                f"{self.gateway.address}: the bank must add it for this feed (OracleGateway.addOperator(feed, "
                "operator); `yinqi deploy` admits YINQI_CREDIT_ORACLE_OPERATORS / YINQI_IOT_ORACLE_OPERATORS)"
            )
        route = self._retry(self.gateway.functions.feeds(feed).call)
        if int(route.consumer, 16) == 0:
            raise OracleError(f"feed 0x{feed.hex()} is not configured on the gateway: run `yinqi deploy`")
        if route.quorum > 1 and cosigner is None:
            raise OracleError(
                f"feed 0x{feed.hex()} needs {route.quorum} signatures; this oracle signs alone (k = 1) "
                "unless it co-signs with the feed's other operators (--cosign-broker)"
            )

    def recover(self) -> int:
        """Settle every pending report, oldest first (a previous run's, or one whose send failed); how
        many there were. One the gateway would now refuse as too old is dropped with every report after
        it (:meth:`_expire`). Raises if one cannot be settled now: nothing newer may overtake it."""
        settled = 0
        for _ in range(3 * len(self.outbox.pending(self.feed)) + 3):  # each report: renumber, send, confirm
            pending = self.outbox.pending(self.feed)
            self.metrics.outbox_pending.set(len(pending))
            if not pending:
                return settled
            report, route = pending[0], self._route()
            last = route.lastSequence
            if report.sequence <= last and self._applied(report):
                self._confirmed(report)  # it landed before we could record it
                settled += 1
            elif too_old(report.as_of, self.chain_now(), route.maxAge):
                self._expire(report, route.maxAge)
            elif report.signatures and report.sequence != last + 1:
                self._supersede(report)
            elif report.sequence != last + 1:  # another report took its sequence, or a gap (a reorg, a new gateway)
                log.warning("pending reports renumbered from %d (chain at %d)", report.sequence, last)
                self.outbox.renumber(self.feed, last + 1)
            else:
                self._deliver(report)
                settled += 1
        raise ChainError(f"the feed's sequence kept moving while {len(pending)} reports were pending; retrying later")

    def publish(self, payload: bytes, items: dict[str, str], *, as_of: int) -> None:
        """Settle what is pending, then record, sign, send and confirm one report setting `items`, as of
        `as_of`: the time (unix seconds) of the data it was computed from. :class:`AsOfRefused`, with
        nothing recorded, when that time is too old for the gateway, ahead of the chain's clock by more
        than the gateway allows, or older than the report that last set one of `items` (as the outbox
        recorded it; the CreditLine refuses a line older than its score on chain in any case)."""
        self.recover()
        route, now = self._route(), self.chain_now()
        if as_of > now + self._max_clock_skew:
            raise AsOfRefused(
                f"report as of {as_of} is {as_of - now} s ahead of the chain's clock (the gateway allows "
                f"{self._max_clock_skew} s)"
            )
        if too_old(as_of, now, route.maxAge):
            raise AsOfRefused(
                f"report as of {as_of} is {now - as_of} s old: the gateway takes reports of feed "
                f"0x{self.feed.hex()} up to {route.maxAge} s old (less {SEND_MARGIN} s to land)"
            )
        if as_of < (newest := self.outbox.newest_confirmed_as_of(self.feed, items)):
            raise AsOfRefused(
                f"report as of {as_of} is older than what is on chain for one of its items (as of {newest}): "
                "an item's time must not go backwards"
            )
        sequence = self.outbox.next_sequence(self.feed, route.lastSequence)
        signatures = ()
        if self.cosigner is not None:
            as_of, signatures = self.cosigner.gather_blocking(sequence, as_of, payload, items, floor_as_of=newest)
            failpoint("cosign.after_quorum")  # a leader killed here: the next slot's leader lands the sequence
        report = self.outbox.enqueue(self.feed, sequence, as_of, payload, items, signatures)
        self.metrics.outbox_pending.inc()
        failpoint("publish.after_enqueue")
        self._deliver(report)

    def _deliver(self, report) -> None:
        """Sign (unless co-signed already) and send a report that carries the feed's next sequence, and
        confirm it. A co-signed report whose sequence another report took meanwhile is discarded."""
        signatures = list(report.signatures) or sign_report(
            self.domain, self.feed, report.sequence, report.as_of, report.payload, [self.signer]
        )
        self.metrics.reports_sent.inc()
        try:
            self._retry(
                lambda: submit_report(
                    self.w3,
                    self.manifest,
                    self.signer,
                    self.feed,
                    report.sequence,
                    report.as_of,
                    report.payload,
                    signatures,
                )
            )
        except TransactionFailed as exc:
            if self._chain_last() >= report.sequence and self._applied(report):
                pass  # an earlier attempt of ours landed (the answer was lost): the report is on chain once
            elif (error := _error_name(str(exc))) in self._consumer_errors:
                # the consumer refuses its content: sending it again cannot help, and it must not block
                # every later report; the oracle recomputes what it still wants on its next cycle
                self.outbox.discard(report)
                self.metrics.reports_dropped.labels(reason="refused").inc()
                self.metrics.outbox_pending.dec()
                raise ReportRejected(f"report {report.sequence} refused by the consumer ({error}); dropped") from exc
            elif report.signatures and error and error.startswith(("Gateway", "ECDSA")):
                # a co-signed report the gateway refuses (its sequence taken by another operator's
                # report, a signature it cannot use): its signatures are for this sequence and as-of
                # only, so sending it again cannot help; it is dropped, and its items recomputed
                self._supersede(report, error)
                return
            else:
                raise
        failpoint("publish.after_send")
        self._confirmed(report)
        log.info("report %d on chain: %d items", report.sequence, len(report.items))

    def _expire(self, report, max_age: int) -> None:
        """Drop a pending report the gateway would refuse as too old, and every pending report after it:
        their items were never confirmed, so the oracle recomputes them from its current data, with that
        data's time. Re-stamping old data as fresh would misstate it; sending the later reports alone
        could land one item's changes (a device's flags) out of order."""
        dropped = self.outbox.discard_from(report)
        self.metrics.reports_dropped.labels(reason="expired").inc(dropped)
        self.metrics.outbox_pending.dec(dropped)
        log.warning(
            "report %d is as of %d, too old for the gateway (max age %d s): dropped with the %d pending "
            "report(s) after it; their items are recomputed from current data",
            report.sequence,
            report.as_of,
            max_age,
            dropped - 1,
        )

    def _supersede(self, report, error: str = "GatewaySequenceNotNext") -> None:
        """Drop a co-signed report the gateway will not take: another report took its sequence, or
        (`error`) one of its signatures is unusable. Its items are recomputed next cycle from what the
        chain then says."""
        self.outbox.discard(report)
        reason = "superseded" if error == "GatewaySequenceNotNext" else "refused"
        self.metrics.reports_dropped.labels(reason=reason).inc()
        self.metrics.outbox_pending.dec()
        log.warning("co-signed report %d dropped (%s); its items are recomputed", report.sequence, error)

    def sync(self, applied_items: Callable) -> int:
        """Bring the outbox up to date with the reports the gateway accepted on this feed since the last
        sync, whoever led them: one of our pending reports is confirmed; any other is recorded with the
        items `applied_items(receipt, accepted_event)` reads from the consumer's own events in the same
        transaction (never from the submitter's calldata, which another contract may wrap or pad;
        None: they do not match what the gateway accepted, and nothing is synced). How many it read."""
        start = self.outbox.sync_cursor(self.feed)
        start = self.manifest.record("OracleGateway").block if start is None else start
        end = self._retry(lambda: self.w3.eth.block_number)
        if start > end:
            return 0
        accepted = self._retry(
            lambda: event_logs([self.gateway.events.ReportAccepted()], start, end, argument_filters={"feed": self.feed})
        )
        pending = {r.sequence: r for r in self.outbox.pending(self.feed)}
        for event in accepted:
            args = event["args"]
            ours = pending.get(args["sequence"])
            if ours is not None and Web3.keccak(ours.payload) == bytes(args["payloadHash"]):
                self._confirmed(replace(ours, as_of=args["asOf"]))  # as the chain has it
                continue
            receipt = self._retry(lambda tx=event["transactionHash"]: self.w3.eth.get_transaction_receipt(tx))
            items = applied_items(receipt, event)
            if items is None:
                raise OracleError(
                    f"report {args['sequence']} of feed 0x{self.feed.hex()}: its consumer's record does not "
                    "match the payload hash the gateway accepted"
                )
            self.outbox.record_applied(self.feed, args["asOf"], items)
        self.outbox.set_sync_cursor(self.feed, end + 1)
        return len(accepted)

    def _confirmed(self, report) -> None:
        """Mark a pending report on chain (counted once, whichever thread saw it first)."""
        if self.outbox.confirm(report):
            self.metrics.reports_confirmed.inc()
            self.metrics.outbox_pending.dec()

    def _applied(self, report) -> bool:
        """Whether the chain applied this very report at its sequence (the gateway's own record: the
        payload hash it accepted there), not merely some report with that sequence."""
        accepted = self._retry(
            lambda: self.gateway.events.ReportAccepted().get_logs(
                from_block=self.manifest.record("OracleGateway").block,
                argument_filters={"feed": self.feed, "sequence": report.sequence},
            )
        )
        return any(bytes(e["args"]["payloadHash"]) == Web3.keccak(report.payload) for e in accepted)

    @cached_property
    def _consumer_errors(self) -> set[str]:
        """The custom errors of the contract this feed reports to (its refusals of a report's content)."""
        consumer = self._route().consumer.lower()
        abis = [r.abi for r in self.manifest.contracts.values() if r.address.lower() == consumer]
        return {item["name"] for abi in abis for item in abi if item.get("type") == "error"}

    @cached_property
    def _max_clock_skew(self) -> int:
        """How far the gateway lets a report's as-of time run ahead of the chain's clock."""
        return self._retry(self.gateway.functions.MAX_CLOCK_SKEW().call)

    def _route(self):
        """The feed on the gateway now: its last sequence and the age (`maxAge`) of reports it takes."""
        return self._retry(self.gateway.functions.feeds(self.feed).call)

    def _chain_last(self) -> int:
        return self._route().lastSequence

    def max_age(self) -> int:
        """How old, in seconds, a report of this feed may be for the gateway to take it (`maxAge`)."""
        return self._route().maxAge

    def chain_now(self) -> int:
        """The chain's time: its latest block's."""
        return self._retry(lambda: self.w3.eth.get_block("latest")["timestamp"])

    def _retry(self, fn):
        delay = self._backoff
        for attempt in range(1, self._retries + 1):
            try:
                return fn()
            except (ConnectionError, OSError, requests.RequestException, ChainError) as exc:
                if attempt == self._retries:
                    raise ChainError(f"the chain did not answer after {attempt} tries ({exc})") from None
                log.warning("RPC error (%s); retrying in %.1fs", exc, delay)
                time.sleep(delay)
                delay *= 2
