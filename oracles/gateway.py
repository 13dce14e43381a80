"""What every oracle shares to put a report on chain: EIP-712 signing by operators and submitting
through the OracleGateway (the payloads' words are packed by :mod:`backend.core.codec`). Each oracle
only knows its own domain."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from backend.core.chain import send
from backend.core.errors import ChainError, TransactionFailed
from backend.core.manifest import Manifest
from oracles.errors import OracleError
from oracles.failpoints import failpoint

log = logging.getLogger(__name__)


def sign_report(
    gateway: Contract, feed: bytes, sequence: int, as_of: int, payload: bytes, signers: Sequence[LocalAccount]
) -> list[bytes]:
    """Operators' signatures over the report's EIP-712 digest, in the ascending signer order the
    gateway requires."""
    return sign_digest(gateway.functions.reportDigest(feed, sequence, as_of, payload).call(), signers)


def sign_digest(digest: bytes, signers: Sequence[LocalAccount]) -> list[bytes]:
    """Signatures over a report digest, ordered by ascending signer address (the gateway's rule)."""
    ordered = sorted(signers, key=lambda a: int(a.address, 16))
    return [bytes(Account.unsafe_sign_hash(digest, s.key).signature) for s in ordered]


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
    return send(w3, submitter, call, decoder=manifest.revert_decoder(), what=f"submitting report {sequence}")


class ReportPublisher:
    """Puts one feed's reports on chain exactly once, through the outbox (see :mod:`oracles.outbox`).

    Reports are signed by this oracle's operator key (k = 1; with k > 1 the other operators'
    signatures must be gathered before :meth:`publish`, which this daemon does not do yet).
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
    ) -> None:
        self.w3, self.manifest, self.signer, self.outbox, self.feed = w3, manifest, signer, outbox, feed
        self.gateway = manifest.contract(w3, "OracleGateway")
        self._retries, self._backoff = retries, backoff
        if not self._retry(self.gateway.functions.isOperator(signer.address).call):
            raise OracleError(
                f"{signer.address} is not an oracle operator on the gateway {self.gateway.address}: "
                "the bank must add it (OracleGateway.addOperator)"
            )
        route = self._retry(self.gateway.functions.feeds(feed).call)
        if int(route.consumer, 16) == 0:
            raise OracleError(f"feed 0x{feed.hex()} is not configured on the gateway: run `yinqi deploy`")
        if route.quorum > 1:
            raise OracleError(f"feed 0x{feed.hex()} needs {route.quorum} signatures; this oracle signs alone (k = 1)")

    def recover(self) -> int:
        """Settle what a previous run left pending; how many reports that was."""
        pending = self.outbox.pending(self.feed)
        for report in pending:
            self._deliver(report)
        return len(pending)

    def publish(self, payload: bytes, items: dict[str, str]) -> None:
        """Record, sign, send and confirm one report setting `items`."""
        sequence = self.outbox.next_sequence(self.feed, self._chain_last())
        report = self.outbox.enqueue(self.feed, sequence, self._now(), payload, items)
        failpoint("publish.after_enqueue")
        self._deliver(report)

    def _deliver(self, report) -> None:
        if self._chain_last() >= report.sequence:
            self.outbox.confirm(report)  # it landed before we could record it
            return
        max_age = self._retry(self.gateway.functions.feeds(self.feed).call).maxAge
        now = self._now()
        if report.as_of + max_age < now + 60:
            report = self.outbox.resigned(report, now)
        signatures = sign_report(self.gateway, self.feed, report.sequence, report.as_of, report.payload, [self.signer])
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
        except TransactionFailed:
            if self._chain_last() < report.sequence:
                raise
            # an earlier attempt of ours landed (the answer was lost): the report is on chain once
        failpoint("publish.after_send")
        self.outbox.confirm(report)
        log.info("report %d on chain: %d items", report.sequence, len(report.items))

    def _chain_last(self) -> int:
        return self._retry(self.gateway.functions.feeds(self.feed).call).lastSequence

    def _now(self) -> int:
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
