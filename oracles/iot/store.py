"""The IoT oracle's memory: each device's rule state, hours worked per lease period, every flag change,
the rejection counters and the time up to which all that is complete, in SQLite.

A batch of messages is applied in one transaction that first re-reads the devices it touches, so two
oracle instances on one host (a shared MQTT subscription splits the fleet between them) can share
one store file: each message is applied once, by whichever instance received it, on top of what the
other applied. The MQTT acknowledgement goes out only after the commit, so a ``kill -9`` before it
makes the broker deliver the message again — and a redelivered message is stale (see
:func:`oracles.iot.rules.RuleEngine.observe`), counted and dropped.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from backend.core.enums import RiskFlag
from oracles.iot.rules import DeviceState, FlagChange, RuleEngine
from oracles.iot.telemetry import BadMessage, Telemetry, parse

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    state     TEXT NOT NULL               -- the rule engine's DeviceState as JSON
);
CREATE TABLE IF NOT EXISTS usage (          -- hours worked per lease period, from the meters' deltas
    lease_id  INTEGER NOT NULL,
    period    INTEGER NOT NULL,
    hours     REAL    NOT NULL,
    PRIMARY KEY (lease_id, period)
);
CREATE TABLE IF NOT EXISTS flag_changes (   -- every raise and clear, numbered per device
    device_id TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    flags     INTEGER NOT NULL,           -- the device's flags after the change
    flag      INTEGER NOT NULL,
    raised    INTEGER NOT NULL,
    at        REAL    NOT NULL,
    detail    TEXT    NOT NULL,
    PRIMARY KEY (device_id, n)
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (           -- the store's own facts: observed_at, the latest `now` applied
    name  TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""


@dataclass(frozen=True)
class LeaseInfo:
    """A device's running lease as the chain has it (what the oracle needs to attribute usage)."""

    lease_id: int
    start: int
    period_seconds: int
    periods: int

    def period_at(self, timestamp: float) -> int | None:
        k = int((timestamp - self.start) // self.period_seconds)
        return k if 0 <= k < self.periods and timestamp >= self.start else None


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes


@dataclass
class BatchResult:
    accepted: int = 0
    rejected: dict[str, int] | None = None
    changes: list[FlagChange] | None = None


class StoreReader:
    """What a device store holds, read on a connection of its own (another thread's, say: a co-signing
    check reads the store while the worker writes it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)

    def close(self) -> None:
        self._db.close()

    def observed_at(self) -> float | None:
        """The time up to which what the store holds is complete: the latest `now` it was brought to
        (:meth:`DeviceStore.apply`, :meth:`DeviceStore.tick`). None before either ran."""
        row = self._db.execute("SELECT value FROM meta WHERE name = 'observed_at'").fetchone()
        return row[0] if row else None

    def counters(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT name, count FROM counters").fetchall())

    def flag_changes(self, device_id: str | None = None) -> list[dict]:
        sql = "SELECT device_id, n, flags, flag, raised, at, detail FROM flag_changes"
        rows = self._db.execute(
            sql + (" WHERE device_id = ?" if device_id else "") + " ORDER BY at, device_id, n",
            (device_id,) if device_id else (),
        ).fetchall()
        keys = ("device_id", "n", "flags", "flag", "raised", "at", "detail")
        return [dict(zip(keys, row, strict=False)) for row in rows]

    def current_flags(self, device_id: str) -> int:
        """The device's flags after the last change this store recorded (in the order it applied them;
        none: 0)."""
        row = self._db.execute(
            "SELECT flags FROM flag_changes WHERE device_id = ? ORDER BY n DESC LIMIT 1", (device_id,)
        ).fetchone()
        return row[0] if row else 0

    def usage(self, lease_id: int | None = None) -> dict[tuple[int, int], float]:
        rows = self._db.execute(
            "SELECT lease_id, period, hours FROM usage" + (" WHERE lease_id = ?" if lease_id is not None else ""),
            (lease_id,) if lease_id is not None else (),
        ).fetchall()
        return {(lease, k): hours for lease, k, hours in rows}


class DeviceStore(StoreReader):
    def __init__(self, path: str | Path, engine: RuleEngine) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path)
        self.engine = engine
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------

    def apply(self, messages: Iterable[Message], now: float, leases: dict[str, LeaseInfo]) -> BatchResult:
        """Parse, check and apply `messages` in one transaction; bad ones are counted by reason."""
        parsed: list[Telemetry] = []
        rejected: dict[str, int] = {}
        for m in messages:
            try:
                parsed.append(parse(m.topic, m.payload))
            except BadMessage as exc:
                rejected[exc.reason] = rejected.get(exc.reason, 0) + 1
        result = BatchResult(rejected=rejected, changes=[])
        with self._transaction():
            self._load({t.device_id for t in parsed})
            usage: dict[tuple[int, int], float] = {}
            for t in parsed:
                try:
                    before = self.engine.states[t.device_id].worked_hours if t.device_id in self.engine.states else None
                    result.changes += self.engine.observe(t, now)
                except BadMessage as exc:
                    rejected[exc.reason] = rejected.get(exc.reason, 0) + 1
                    continue
                result.accepted += 1
                worked = self.engine.states[t.device_id].worked_hours - (before or 0.0)
                lease = leases.get(t.device_id)
                if before is not None and worked > 0 and lease and (k := lease.period_at(t.timestamp)) is not None:
                    usage[(lease.lease_id, k)] = usage.get((lease.lease_id, k), 0.0) + worked
            self._save(now, result.changes, usage, {"accepted": result.accepted, **rejected})
        return result

    def expect(self, since: dict[str, float]) -> list[str]:
        """Devices under lease since the given times that this store has never heard from: the idle timer
        counts their silence from their lease's start. The devices it took on."""
        if not since:
            return []
        with self._transaction():
            self._load(set(since))
            new = [device for device, at in sorted(since.items()) if self.engine.expect(device, at)]
            self.engine.states = {device: self.engine.states[device] for device in new}  # save only these
            if new:
                self._save_states()
        return new

    def tick(self, now: float) -> list[FlagChange]:
        """The idle timer over every known device, silent ones included."""
        with self._transaction():
            self._load(None)
            changes = self.engine.tick(now)
            self._save(now, changes, {}, {})
        return changes

    def _load(self, devices: set[str] | None) -> None:
        if devices is None:
            rows = self._db.execute("SELECT device_id, state FROM devices").fetchall()
        else:
            marks = ",".join("?" * len(devices))
            rows = self._db.execute(
                f"SELECT device_id, state FROM devices WHERE device_id IN ({marks})", tuple(devices)
            ).fetchall()
        # only what was just read: another instance may have moved any other device on since
        self.engine.states = {device: _state_from_json(state) for device, state in rows}

    def _save(
        self, now: float, changes: list[FlagChange], usage: dict[tuple[int, int], float], counts: dict[str, int]
    ) -> None:
        self._db.execute(  # never back: two instances sharing the store may apply out of step
            "INSERT INTO meta (name, value) VALUES ('observed_at', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
            (now,),
        )
        self._save_states()
        for c in changes:
            (n,) = self._db.execute(
                "SELECT COALESCE(MAX(n), 0) + 1 FROM flag_changes WHERE device_id = ?", (c.device_id,)
            ).fetchone()
            self._db.execute(
                "INSERT INTO flag_changes (device_id, n, flags, flag, raised, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (c.device_id, n, int(c.flags), int(c.flag), int(c.raised), c.at, c.detail),
            )
        self._db.executemany(
            "INSERT INTO usage (lease_id, period, hours) VALUES (?, ?, ?) "
            "ON CONFLICT (lease_id, period) DO UPDATE SET hours = hours + excluded.hours",
            [(lease, k, hours) for (lease, k), hours in usage.items()],
        )
        self._db.executemany(
            "INSERT INTO counters (name, count) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET count = count + excluded.count",
            [(name, n) for name, n in counts.items() if n],
        )

    def _save_states(self) -> None:
        self._db.executemany(
            "INSERT INTO devices (device_id, state) VALUES (?, ?) "
            "ON CONFLICT (device_id) DO UPDATE SET state = excluded.state",
            [(d, _state_to_json(state)) for d, state in self.engine.states.items()],
        )

    def _transaction(self):
        store = self

        class _Tx:
            def __enter__(self):
                store._lock.acquire()
                store._db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind, exc, tb):
                try:
                    store._db.execute("COMMIT" if kind is None else "ROLLBACK")
                finally:
                    store._lock.release()
                return False

        return _Tx()


def _state_to_json(state: DeviceState) -> str:
    doc = asdict(state)
    doc["flags"] = int(state.flags)
    doc["fuel_window"] = list(state.fuel_window)
    return json.dumps(doc)


def _state_from_json(raw: str) -> DeviceState:
    doc = json.loads(raw)
    last = doc.pop("last")
    return DeviceState(
        **{**doc, "flags": RiskFlag(doc["flags"]), "fuel_window": deque(tuple(x) for x in doc["fuel_window"])},
        last=Telemetry(**last) if last else None,
    )
