"""The oracles' memory across crashes: every report is written here, signed, BEFORE it is sent, and
marked confirmed only when the chain has it; what was last confirmed per item (a merchant, a device)
is kept beside it. With the gateway's sequence per feed this gives exactly-once: a report is either on
chain (the gateway accepted its payload at its sequence) or still pending here, sent again — under a
new sequence if another report took its old one (a co-signed report, whose signatures are for its
sequence, is dropped instead and recomputed) — before anything newer. A report keeps the as-of time
it was recorded with (its data's); once too old to send, it is dropped with everything after it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    feed      BLOB    NOT NULL,
    sequence  INTEGER NOT NULL,
    as_of     INTEGER NOT NULL,  -- the time of the data it was computed from, never moved
    payload   BLOB    NOT NULL,
    items     TEXT    NOT NULL,  -- JSON {item key: value} this report sets
    status    TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed')),
    signatures TEXT   NOT NULL DEFAULT '[]',  -- JSON hex: the operators' signatures of a co-signed report
    PRIMARY KEY (feed, sequence)
);
CREATE TABLE IF NOT EXISTS confirmed (
    feed  BLOB    NOT NULL,
    item  TEXT    NOT NULL,
    value TEXT    NOT NULL,
    as_of INTEGER NOT NULL DEFAULT 0,  -- the as-of time of the report that last set it
    PRIMARY KEY (feed, item)
);
CREATE TABLE IF NOT EXISTS sync (
    feed       BLOB    PRIMARY KEY,
    next_block INTEGER NOT NULL  -- the first block whose accepted reports are not read yet
);
CREATE TABLE IF NOT EXISTS endorsements (  -- what this operator's key signed for other leaders
    feed         BLOB    NOT NULL,
    sequence     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    payload_hash BLOB    NOT NULL,
    as_of        INTEGER NOT NULL,
    items        TEXT    NOT NULL,
    signed_at    INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class PendingReport:
    feed: bytes
    sequence: int
    as_of: int
    payload: bytes
    items: dict[str, str]
    signatures: tuple[bytes, ...] = ()  # a co-signed report's, gathered before it was recorded


class Outbox:
    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a confirmed write survives power loss
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(confirmed)")}
        if "as_of" not in columns:  # an outbox written before heartbeats
            self._db.execute("ALTER TABLE confirmed ADD COLUMN as_of INTEGER NOT NULL DEFAULT 0")
        if "signatures" not in {row[1] for row in self._db.execute("PRAGMA table_info(reports)")}:  # before co-signing
            self._db.execute("ALTER TABLE reports ADD COLUMN signatures TEXT NOT NULL DEFAULT '[]'")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def confirmed_values(self, feed: bytes) -> dict[str, str]:
        rows = self._db.execute("SELECT item, value FROM confirmed WHERE feed = ?", (feed,))
        return dict(rows.fetchall())

    def confirmed_as_of(self, feed: bytes) -> dict[str, int]:
        """Each item's as-of time on chain: when the report that last set it was as of."""
        return dict(self._db.execute("SELECT item, as_of FROM confirmed WHERE feed = ?", (feed,)).fetchall())

    def confirmed_of(self, feed: bytes, items: Iterable[str]) -> tuple[dict[str, str], dict[str, int]]:
        """:meth:`confirmed_values` and :meth:`confirmed_as_of` of `items` alone (those ever confirmed):
        what a co-signer reads per proposal, whatever the size of the book."""
        values: dict[str, str] = {}
        as_of: dict[str, int] = {}
        for chunk in _chunks(list(items)):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT item, value, as_of FROM confirmed WHERE feed = ? AND item IN ({marks})", (feed, *chunk)
            )
            for item, value, item_as_of in rows:
                values[item], as_of[item] = value, item_as_of
        return values, as_of

    def newest_confirmed_as_of(self, feed: bytes, items: Iterable[str]) -> int:
        """The newest as-of time on chain of any of `items` (0 if none was ever set): a report setting
        them may not be older (the CreditLine refuses to move a line's score back in time)."""
        newest = 0
        for chunk in _chunks(list(items)):
            marks = ",".join("?" * len(chunk))
            row = self._db.execute(
                f"SELECT COALESCE(MAX(as_of), 0) FROM confirmed WHERE feed = ? AND item IN ({marks})", (feed, *chunk)
            ).fetchone()
            newest = max(newest, row[0])
        return newest

    def pending(self, feed: bytes) -> list[PendingReport]:
        rows = self._db.execute(
            "SELECT sequence, as_of, payload, items, signatures FROM reports "
            "WHERE feed = ? AND status = 'pending' ORDER BY sequence",
            (feed,),
        )
        return [
            PendingReport(
                feed, seq, as_of, bytes(payload), json.loads(items), tuple(map(bytes.fromhex, json.loads(sig)))
            )
            for seq, as_of, payload, items, sig in rows
        ]

    def next_sequence(self, feed: bytes, chain_last: int) -> int:
        """The feed's next sequence on chain. A confirmed row at or above it was not on this chain (a
        reorg, a new gateway): it is forgotten, so nothing it held blocks the sequence."""
        with self._lock:
            self._db.execute(
                "DELETE FROM reports WHERE feed = ? AND sequence > ? AND status = 'confirmed'", (feed, chain_last)
            )
        return chain_last + 1

    def renumber(self, feed: bytes, start: int) -> None:
        """Give the pending reports, in their order, the sequences start, start + 1, … (another report
        took theirs, or the chain's sequence is behind them); confirmed rows in the way are forgotten.
        Signatures are over the old sequence, so they are cleared."""
        with self._transaction():
            self._db.execute(
                "DELETE FROM reports WHERE feed = ? AND sequence >= ? AND status = 'confirmed'", (feed, start)
            )
            rows = self._db.execute(
                "SELECT sequence FROM reports WHERE feed = ? AND status = 'pending' ORDER BY sequence", (feed,)
            ).fetchall()
            for (old,) in rows:  # out of the way first (negative), then into place: the key stays unique
                self._db.execute("UPDATE reports SET sequence = ? WHERE feed = ? AND sequence = ?", (-old, feed, old))
            for offset, (old,) in enumerate(rows):
                self._db.execute(
                    "UPDATE reports SET sequence = ?, signatures = '[]' WHERE feed = ? AND sequence = ?",
                    (start + offset, feed, -old),
                )

    def discard(self, report: PendingReport) -> None:
        """Forget a pending report the chain refused for its content."""
        with self._lock:
            self._db.execute(
                "DELETE FROM reports WHERE feed = ? AND sequence = ? AND status = 'pending'",
                (report.feed, report.sequence),
            )

    def discard_from(self, report: PendingReport) -> int:
        """Forget a pending report and every pending report after it (the chain would refuse the first
        as too old); how many."""
        with self._lock:
            return self._db.execute(
                "DELETE FROM reports WHERE feed = ? AND sequence >= ? AND status = 'pending'",
                (report.feed, report.sequence),
            ).rowcount

    def enqueue(
        self,
        feed: bytes,
        sequence: int,
        as_of: int,
        payload: bytes,
        items: dict[str, str],
        signatures: Iterable[bytes] = (),
    ) -> PendingReport:
        signatures = tuple(signatures)
        with self._lock:
            self._db.execute(
                "INSERT INTO reports (feed, sequence, as_of, payload, items, status, signatures) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                (feed, sequence, as_of, payload, json.dumps(items), json.dumps([s.hex() for s in signatures])),
            )
        return PendingReport(feed, sequence, as_of, payload, items, signatures)

    def confirm(self, report: PendingReport) -> bool:
        """Mark the report on chain and record what it set, in one transaction; whether it was still
        pending (a report two threads confirm is counted once)."""
        with self._transaction():
            changed = self._db.execute(
                "UPDATE reports SET status = 'confirmed' WHERE feed = ? AND sequence = ? AND status = 'pending'",
                (report.feed, report.sequence),
            ).rowcount
            if changed:
                self._set_confirmed(report.feed, report.as_of, report.items)
            return bool(changed)

    def record_applied(self, feed: bytes, as_of: int, items: dict[str, str]) -> None:
        """Record what a report another operator landed set (read from the chain, never from its word)."""
        with self._transaction():
            self._set_confirmed(feed, as_of, items)

    @contextmanager
    def _transaction(self):
        """One write transaction, taken at once (BEGIN IMMEDIATE), rolled back if anything raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _set_confirmed(self, feed: bytes, as_of: int, items: dict[str, str]) -> None:
        self._db.executemany(
            "INSERT INTO confirmed (feed, item, value, as_of) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (feed, item) DO UPDATE SET value = excluded.value, as_of = excluded.as_of",
            [(feed, item, value, as_of) for item, value in items.items()],
        )

    def sync_cursor(self, feed: bytes) -> int | None:
        """The first block whose accepted reports of `feed` were not read yet (None: never synced)."""
        row = self._db.execute("SELECT next_block FROM sync WHERE feed = ?", (feed,)).fetchone()
        return row[0] if row else None

    def set_sync_cursor(self, feed: bytes, next_block: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO sync VALUES (?, ?) ON CONFLICT (feed) DO UPDATE SET next_block = excluded.next_block",
                (feed, next_block),
            )

    def record_endorsement(self, proposal, signed_at: int) -> None:
        """Keep what this operator's key is about to sign for a leader's `proposal` (an audit trail)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO endorsements VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    proposal.feed,
                    proposal.sequence,
                    proposal.attempt,
                    proposal.payload_hash,
                    proposal.as_of,
                    json.dumps(proposal.items),
                    signed_at,
                ),
            )


def _chunks(keys: list[str], size: int = 500) -> Iterable[list[str]]:
    """`keys` in runs of at most `size`: within SQLite's limit on bound parameters."""
    return (keys[start : start + size] for start in range(0, len(keys), size))
