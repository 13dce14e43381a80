"""Where the index keeps decoded events: one table, one row per log, plus a cursor — in SQLite (a file,
the embedded default) or PostgreSQL (a ``postgresql://`` URL), so several API processes can share one
index. Writers take a lock (SQLite's write lock; a PostgreSQL advisory lock), so concurrent followers
never interleave their writes."""

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
    block_number BIGINT  NOT NULL,
    block_hash   TEXT    NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT    NOT NULL,
    timestamp    BIGINT  NOT NULL,
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
ADVISORY_LOCK = 0x59494E5149  # "YINQI": one index writer at a time on a shared PostgreSQL


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
            "block": self.block_number,
            "log_index": self.log_index,
            "tx": self.tx_hash,
            "timestamp": self.timestamp,
            "contract": self.contract,
            "event": self.event,
            "subject": self.subject,
            "args": self.args,
        }


@dataclass(frozen=True)
class EventFilter:
    contract: str | None = None
    events: tuple[str, ...] = ()
    subject: str | None = None
    party: str | None = None
    party_part: bool = False  # `party` is a part of an address (matched anywhere in one), not a whole one
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
        if self.party and self.party_part:
            clauses.append("parties LIKE ?"), params.append(f"%{self.party.lower()}%")
        elif self.party:
            clauses.append("(' ' || parties || ' ') LIKE ?"), params.append(f"% {self.party.lower()} %")
        if self.from_block is not None:
            clauses.append("block_number >= ?"), params.append(self.from_block)
        if self.to_block is not None:
            clauses.append("block_number <= ?"), params.append(self.to_block)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class IndexStore:
    """`target`: a SQLite file path (or ``:memory:``), or a ``postgresql://`` URL."""

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)
        self.postgres = self.target.startswith(("postgresql://", "postgres://"))
        self._lock = threading.RLock()
        if self.postgres:
            import psycopg

            self._db = psycopg.connect(self.target, autocommit=True)
            with self._lock:
                self._db.execute(f"SELECT pg_advisory_lock({ADVISORY_LOCK})")  # two processes creating at once
                try:
                    for statement in filter(str.strip, SCHEMA.split(";")):
                        self._db.execute(statement)
                finally:
                    self._db.execute(f"SELECT pg_advisory_unlock({ADVISORY_LOCK})")
        else:
            if self.target != ":memory:":
                Path(self.target).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.target, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def _execute(self, sql: str, params=()):
        with self._lock:
            return self._db.execute(self._sql(sql), params)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self.postgres:
                self._db.execute("BEGIN")
                self._db.execute(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
            else:
                self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- meta --------------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- events ------------------------------------------------------------------------------

    def add(self, events: Iterable[Event]) -> int:
        rows = [
            (
                e.block_number,
                e.block_hash,
                e.log_index,
                e.tx_hash,
                e.timestamp,
                e.contract,
                e.event,
                e.subject,
                " ".join(e.parties),
                json.dumps(e.args),
            )
            for e in events
        ]
        sql = self._sql(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (block_number, log_index) DO UPDATE SET "
            "block_hash = excluded.block_hash, tx_hash = excluded.tx_hash, timestamp = excluded.timestamp, "
            "contract = excluded.contract, event = excluded.event, subject = excluded.subject, "
            "parties = excluded.parties, args = excluded.args"
        )
        with self._lock:
            if self.postgres:
                with self._db.cursor() as cursor:
                    cursor.executemany(sql, rows)
            else:
                self._db.executemany(sql, rows)
        return len(rows)

    def drop_after(self, block: int) -> None:
        self._execute("DELETE FROM events WHERE block_number > ?", (block,))

    def clear(self) -> None:
        self._execute("DELETE FROM events")
        self._execute("DELETE FROM meta")

    def query(
        self,
        where: EventFilter = EventFilter(),
        *,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[Event]:
        sql, params = where.where()
        order = " ORDER BY block_number DESC, log_index DESC" if newest_first else " ORDER BY block_number, log_index"
        page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        rows = self._execute("SELECT * FROM events" + sql + order + page, params).fetchall()
        return [
            Event(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], tuple(r[8].split()), json.loads(r[9])) for r in rows
        ]

    def count(self, where: EventFilter = EventFilter()) -> int:
        sql, params = where.where()
        return self._execute("SELECT COUNT(*) FROM events" + sql, params).fetchone()[0]
