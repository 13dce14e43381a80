"""The oracles' memory across crashes: every report is written here, signed, BEFORE it is sent, and
marked confirmed only when the chain has it; what was last confirmed per item (a merchant, a device)
is kept beside it. With the gateway's sequence per feed this gives exactly-once: a report is either on
chain (the gateway accepted its payload at its sequence) or still pending here, sent again — under a
new sequence if another report took its old one — before anything newer. A report keeps the as-of time
it was recorded with (its data's); once too old to send, it is dropped with everything after it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
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
    PRIMARY KEY (feed, sequence)
);
CREATE TABLE IF NOT EXISTS confirmed (
    feed  BLOB    NOT NULL,
    item  TEXT    NOT NULL,
    value TEXT    NOT NULL,
    as_of INTEGER NOT NULL DEFAULT 0,  -- the as-of time of the report that last set it
    PRIMARY KEY (feed, item)
);
"""


@dataclass(frozen=True)
class PendingReport:
    feed: bytes
    sequence: int
    as_of: int
    payload: bytes
    items: dict[str, str]


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
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def confirmed_values(self, feed: bytes) -> dict[str, str]:
        rows = self._db.execute("SELECT item, value FROM confirmed WHERE feed = ?", (feed,))
        return dict(rows.fetchall())

    def confirmed_as_of(self, feed: bytes) -> dict[str, int]:
        """Each item's as-of time on chain: when the report that last set it was as of."""
        return dict(self._db.execute("SELECT item, as_of FROM confirmed WHERE feed = ?", (feed,)).fetchall())

    def newest_confirmed_as_of(self, feed: bytes, items: Iterable[str]) -> int:
        """The newest as-of time on chain of any of `items` (0 if none was ever set): a report setting
        them may not be older (the CreditLine refuses to move a line's score back in time)."""
        keys, newest = list(items), 0
        for start in range(0, len(keys), 500):  # within SQLite's limit on bound parameters
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            row = self._db.execute(
                f"SELECT COALESCE(MAX(as_of), 0) FROM confirmed WHERE feed = ? AND item IN ({marks})", (feed, *chunk)
            ).fetchone()
            newest = max(newest, row[0])
        return newest

    def pending(self, feed: bytes) -> list[PendingReport]:
        rows = self._db.execute(
            "SELECT sequence, as_of, payload, items FROM reports "
            "WHERE feed = ? AND status = 'pending' ORDER BY sequence",
            (feed,),
        )
        return [
            PendingReport(feed, seq, as_of, bytes(payload), json.loads(items)) for seq, as_of, payload, items in rows
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
        took theirs, or the chain's sequence is behind them); confirmed rows in the way are forgotten."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "DELETE FROM reports WHERE feed = ? AND sequence >= ? AND status = 'confirmed'", (feed, start)
                )
                rows = self._db.execute(
                    "SELECT sequence FROM reports WHERE feed = ? AND status = 'pending' ORDER BY sequence", (feed,)
                ).fetchall()
                for (old,) in rows:  # out of the way first (negative), then into place: the key stays unique
                    self._db.execute(
                        "UPDATE reports SET sequence = ? WHERE feed = ? AND sequence = ?", (-old, feed, old)
                    )
                for offset, (old,) in enumerate(rows):
                    self._db.execute(
                        "UPDATE reports SET sequence = ? WHERE feed = ? AND sequence = ?", (start + offset, feed, -old)
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

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

    def enqueue(self, feed: bytes, sequence: int, as_of: int, payload: bytes, items: dict[str, str]) -> PendingReport:
        with self._lock:
            self._db.execute(
                "INSERT INTO reports (feed, sequence, as_of, payload, items, status) VALUES (?, ?, ?, ?, ?, 'pending')",
                (feed, sequence, as_of, payload, json.dumps(items)),
            )
        return PendingReport(feed, sequence, as_of, payload, items)

    def confirm(self, report: PendingReport) -> None:
        """Mark the report on chain and record what it set, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "UPDATE reports SET status = 'confirmed' WHERE feed = ? AND sequence = ?",
                    (report.feed, report.sequence),
                )
                self._db.executemany(
                    "INSERT INTO confirmed (feed, item, value, as_of) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (feed, item) DO UPDATE SET value = excluded.value, as_of = excluded.as_of",
                    [(report.feed, item, value, report.as_of) for item, value in report.items.items()],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
