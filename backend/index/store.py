"""Where the index keeps decoded events: one table, one row per log, plus a cursor."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT    NOT NULL,
    timestamp    INTEGER NOT NULL,
    contract     TEXT    NOT NULL,   -- the manifest's name: Receivables, CreditLine, …
    event        TEXT    NOT NULL,
    subject      TEXT,               -- what the event is about: a receivable or lease id, an account
    parties      TEXT    NOT NULL,   -- every address in the event, lower case, space separated
    args         TEXT    NOT NULL,   -- the decoded arguments as JSON
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX IF NOT EXISTS events_by_name ON events (contract, event, block_number);
CREATE INDEX IF NOT EXISTS events_by_subject ON events (contract, subject, block_number);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Event:
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str
    timestamp: int
    contract: str
    event: str
    subject: str | None
    parties: tuple[str, ...]
    args: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block_number, "log_index": self.log_index, "tx": self.tx_hash, "timestamp": self.timestamp,
            "contract": self.contract, "event": self.event, "subject": self.subject, "args": self.args,
        }  # fmt: skip


@dataclass(frozen=True)
class EventFilter:
    contract: str | None = None
    events: tuple[str, ...] = ()
    subject: str | None = None
    party: str | None = None
    from_block: int | None = None
    to_block: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.contract:
            clauses.append("contract = ?"), params.append(self.contract)
        if self.events:
            clauses.append(f"event IN ({','.join('?' * len(self.events))})"), params.extend(self.events)
        if self.subject is not None:
            clauses.append("subject = ?"), params.append(self.subject)
        if self.party:
            clauses.append("(' ' || parties || ' ') LIKE ?"), params.append(f"% {self.party.lower()} %")
        if self.from_block is not None:
            clauses.append("block_number >= ?"), params.append(self.from_block)
        if self.to_block is not None:
            clauses.append("block_number <= ?"), params.append(self.to_block)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class IndexStore:
    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- meta --------------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         (key, value))  # fmt: skip

    # -- events ------------------------------------------------------------------------------

    def add(self, events: Iterable[Event]) -> int:
        rows = [
            (e.block_number, e.block_hash, e.log_index, e.tx_hash, e.timestamp, e.contract, e.event, e.subject,
             " ".join(e.parties), json.dumps(e.args))
            for e in events
        ]  # fmt: skip
        self._db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def drop_after(self, block: int) -> None:
        self._db.execute("DELETE FROM events WHERE block_number > ?", (block,))

    def clear(self) -> None:
        self._db.execute("DELETE FROM events")
        self._db.execute("DELETE FROM meta")

    def query(self, where: EventFilter = EventFilter(), *, limit: int | None = None, offset: int = 0,
              newest_first: bool = False) -> list[Event]:  # fmt: skip
        sql, params = where.where()
        order = " ORDER BY block_number DESC, log_index DESC" if newest_first else " ORDER BY block_number, log_index"
        page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        rows = self._db.execute("SELECT * FROM events" + sql + order + page, params).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], tuple(r[8].split()), json.loads(r[9])) for r in rows]

    def count(self, where: EventFilter = EventFilter()) -> int:
        sql, params = where.where()
        return self._db.execute("SELECT COUNT(*) FROM events" + sql, params).fetchone()[0]

    def subjects(self, contract: str, events: tuple[str, ...], party: str | None = None) -> list[str]:
        """Distinct subjects of `events` (optionally involving `party`), oldest first."""
        sql, params = EventFilter(contract=contract, events=events, party=party).where()
        rows = self._db.execute(f"SELECT subject FROM events{sql} GROUP BY subject ORDER BY MIN(block_number)", params)
        return [r[0] for r in rows if r[0] is not None]
