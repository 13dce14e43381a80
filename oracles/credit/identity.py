"""Who a merchant is, as the chain records it: the merchant id the bank bound each wallet to at
onboarding (``ParticipantRegistry.MerchantIdBound``) and each merchant's consent nonce
(``CreditLine.ConsentRevoked``). A consent counts only for the wallet the bank bound to its merchant
id and only with the merchant's current nonce, so no wallet can claim another merchant's data by
naming its id, and a revocation on chain voids every consent signed before it.

Both are followed from the contracts' events, a few thousand blocks per request from where the last
cycle stopped: one pass per cycle however many merchants there are. The RPC node is trusted for these
reads as for every other (``docs/production.md``: run the oracle against a node the operator runs).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from backend.core.chain import event_logs
from backend.core.consent_types import merchant_id_hash
from backend.core.manifest import Manifest

log = logging.getLogger(__name__)


class MerchantRecords:
    """The chain's merchant-id bindings and consent nonces, brought up to date by :meth:`refresh`."""

    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self._events = (
            manifest.contract(w3, "ParticipantRegistry").events.MerchantIdBound(),
            manifest.contract(w3, "CreditLine").events.ConsentRevoked(),
        )
        self._next_block = min(manifest.record(n).block for n in ("ParticipantRegistry", "CreditLine"))
        self._holders: dict[bytes, str] = {}  # merchant id hash → the wallet bound to it
        self._nonces: dict[str, int] = {}  # wallet → its consent nonce, where it is not 0

    def revoked(self) -> set[str]:
        """Every wallet that ever revoked a consent."""
        return set(self._nonces)

    def refresh(self, to_block: int | None = None) -> None:
        """Apply every binding and revocation up to `to_block` (default: the latest block)."""
        last = self.w3.eth.block_number if to_block is None else to_block
        for e in event_logs(self._events, self._next_block, last):
            self._apply(e)
        self._next_block = max(self._next_block, last + 1)

    def holder(self, merchant_id: str) -> str | None:
        """The wallet the bank bound to `merchant_id` (checksummed), or None."""
        return self._holders.get(merchant_id_hash(merchant_id))

    def nonce(self, wallet: str) -> int:
        """The consent nonce the CreditLine keeps for `wallet`: a consent must carry exactly this."""
        return self._nonces.get(Web3.to_checksum_address(wallet), 0)

    def _apply(self, e) -> None:
        args = e["args"]
        if e["event"] == "ConsentRevoked":
            self._nonces[args["merchant"]] = args["nonce"]
            return
        account, bound, previous = args["account"], bytes(args["merchantIdHash"]), bytes(args["previousHash"])
        if self._holders.get(previous) == account:
            del self._holders[previous]
        if any(bound):
            self._holders[bound] = account


@dataclass(frozen=True)
class ConsentSeen:
    """The last consent of a wallet that verified: what a lapse is judged against."""

    wallet: str
    merchant_id: str
    nonce: int
    expires_at: int


class ConsentLedger:
    """Each wallet's last consent that verified, kept in the oracle's state file. A line lapses only on
    a fact the chain records against that consent — the merchant revoked it (its nonce moved on), it
    expired, the bank bound its id elsewhere — never because a file went missing or unreadable for a
    while (a share not mounted yet, a file being replaced): such a merchant is not scored until its
    file is back, and its line goes stale only after ``maxScoreAge``."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS consents (wallet TEXT PRIMARY KEY, merchant_id TEXT NOT NULL, "
            "nonce TEXT NOT NULL, expires_at INTEGER NOT NULL)"  # nonce: a uint256, as decimal text
        )

    def close(self) -> None:
        self._db.close()

    def record(self, seen: list[ConsentSeen]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT INTO consents VALUES (?, ?, ?, ?) ON CONFLICT (wallet) DO UPDATE SET "
                "merchant_id = excluded.merchant_id, nonce = excluded.nonce, expires_at = excluded.expires_at",
                [(s.wallet, s.merchant_id, str(s.nonce), s.expires_at) for s in seen],
            )

    def forget(self, wallet: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM consents WHERE wallet = ?", (wallet,))

    def all(self) -> dict[str, ConsentSeen]:
        rows = self._db.execute("SELECT wallet, merchant_id, nonce, expires_at FROM consents").fetchall()
        return {w: ConsentSeen(w, m, int(n), e) for w, m, n, e in rows}


def lapse_of(seen: ConsentSeen | None, wallet: str, records: MerchantRecords, now: int) -> str | None:
    """Why `wallet`'s consent no longer holds, by the chain's record (None: nothing says so). Without a
    consent seen (the ledger lost), a revocation on chain still counts."""
    if seen is None:
        return "revoked" if records.nonce(wallet) > 0 else None
    if records.nonce(wallet) > seen.nonce:
        return "revoked"
    if now >= seen.expires_at:
        return "expired"
    if records.holder(seen.merchant_id) != wallet:
        return "unbound"
    return None
