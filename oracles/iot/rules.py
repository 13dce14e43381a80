"""The bank's risk rules over device telemetry: idle, geofence, fuel and tamper, each an incident
that raises one flag and, with hysteresis, one clear — never a flag per message.

Idle is also evaluated on a timer (:meth:`RuleEngine.tick`), so a device that falls silent is
caught, which the article's sample (checking only when a message arrives) never does; so is a leased
device that never sends a first message (:meth:`RuleEngine.expect`).

The rules file holds the bank's defaults and per-device overrides only; which devices exist is the
chain's business (the oracle learns them from the lease contract). It is read against a schema: a
setting of the wrong type or out of range is refused when the file is read, naming the setting.
"""

from __future__ import annotations

import math
import tomllib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from backend.core.enums import RiskFlag
from oracles.errors import DataError
from oracles.iot.telemetry import BadMessage, Rejection, Telemetry

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
WORK_EPSILON_HOURS = 0.01  # meter noise below this is not work
MAX_METER_HOURS = 500_000.0  # no engine-hour meter reads more (57 years non-stop): a larger reading is garbage
METER_TOLERANCE_HOURS = 0.1  # an hour meter's resolution: what a meter may run ahead of the clock


@dataclass(frozen=True)
class DeviceRules:
    idle_hours: float = 24
    idle_clear_hours: float = 0.5
    fuel_window_hours: float = 8
    fuel_min_hours: float = 1
    fuel_max_l_per_hour: float = 10
    fuel_clear_l_per_hour: float = 8.5
    geofence_confirm: int = 2
    max_clock_skew_s: float = 600
    max_age_s: float = 7 * 86_400
    max_speed_kmh: float = 120
    tamper_clear_messages: int = 3
    max_meter_rate: float = 1.0  # engine hours per hour of timestamps (1: real machines; a simulator's speedup)
    geofence: tuple[tuple[tuple[float, float], ...], ...] = (
        ((30.0, 110.0), (30.0, 120.0), (40.0, 120.0), (40.0, 110.0)),
    )


# The schema of a rules table: each setting's kind (geofence has its own check).
_INT_SETTINGS = {"geofence_confirm", "tamper_clear_messages"}
_NUMBER_SETTINGS = {f.name for f in fields(DeviceRules)} - _INT_SETTINGS - {"geofence"}


@dataclass(frozen=True)
class RuleBook:
    defaults: DeviceRules
    overrides: dict[str, DeviceRules]  # device id → its rules, where the bank set any of its own

    @classmethod
    def load(cls, path: str | Path = DEFAULT_RULES) -> RuleBook:
        path = Path(path)
        try:
            doc = tomllib.loads(path.read_text())
            unknown = set(doc) - {"defaults", "devices"}
            if unknown:
                raise ValueError(f"unknown tables {sorted(unknown)}: a rules file has [defaults] and [devices.*]")
            base = _rules(DeviceRules(), _table(doc.get("defaults", {}), "[defaults]"), "[defaults]")
            devices = _table(doc.get("devices", {}), "[devices]")
            return cls(
                base,
                {d: _rules(base, _table(over, f'[devices."{d}"]'), f'[devices."{d}"]') for d, over in devices.items()},
            )
        except FileNotFoundError:
            raise DataError(f"no rules file at {path}") from None
        except (tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
            raise DataError(f"rules file {path} is invalid: {exc}") from None

    def for_device(self, device_id: str) -> DeviceRules:
        return self.overrides.get(device_id, self.defaults)


def _table(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table")
    return value


def _rules(base: DeviceRules, values: dict, where: str) -> DeviceRules:
    """`base` with `values` applied, each checked against the schema."""
    checked = {}
    for name, value in values.items():
        if name in _NUMBER_SETTINGS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{where} {name} must be a number, got {value!r}")
            if value <= 0:
                raise ValueError(f"{where} {name} must be above 0, got {value!r}")
            checked[name] = float(value)
        elif name in _INT_SETTINGS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{where} {name} must be a whole number of at least 1, got {value!r}")
            checked[name] = value
        elif name == "geofence":
            checked[name] = _geofence(value, where)
        else:
            raise ValueError(f"{where} has an unknown setting {name!r}")
    return replace(base, **checked)


def _geofence(value: object, where: str) -> tuple[tuple[tuple[float, float], ...], ...]:
    problem = f"{where} geofence must be a list of polygons, each of 3 or more [lat, lon] corners"
    if not isinstance(value, list) or not value:
        raise ValueError(problem)
    polygons = []
    for polygon in value:
        if not isinstance(polygon, list) or len(polygon) < 3:
            raise ValueError(problem)
        corners = []
        for corner in polygon:
            if (
                not isinstance(corner, list)
                or len(corner) != 2
                or any(isinstance(x, bool) or not isinstance(x, int | float) for x in corner)
                or not (-90 <= corner[0] <= 90 and -180 <= corner[1] <= 180)
            ):
                raise ValueError(f"{problem}; got corner {corner!r}")
            corners.append((float(corner[0]), float(corner[1])))
        polygons.append(tuple(corners))
    return tuple(polygons)


@dataclass(frozen=True)
class FlagChange:
    device_id: str
    flag: RiskFlag
    raised: bool  # True: raised; False: cleared
    at: float  # unix seconds
    detail: str
    flags: RiskFlag = RiskFlag(0)  # all the device's flags right after this change


@dataclass
class DeviceState:
    last: Telemetry | None = None
    last_work_at: float | None = None  # when the engine-hour meter last advanced
    flags: RiskFlag = RiskFlag(0)
    worked_hours: float = 0.0  # accepted work since the state began (usage)
    hours_since_idle: float = 0.0
    outside_streak: int = 0
    inside_streak: int = 0
    clean_streak: int = 0
    fuel_window: deque = field(default_factory=deque)  # (hours, litres) per interval with work


class RuleEngine:
    def __init__(self, book: RuleBook, devices: Iterable[str] = ()) -> None:
        self.book = book
        # The devices it takes messages from: those under lease (the daemon keeps this to the chain's)
        # and those the rules file names.
        self.devices: set[str] = set(book.overrides) | set(devices)
        self.states: dict[str, DeviceState] = {}

    def expect(self, device_id: str, since: float) -> bool:
        """A device leased since `since` that the engine has not heard from: the idle timer counts its
        silence from then. True if it was new."""
        if device_id in self.states:
            return False
        self.states[device_id] = DeviceState(last_work_at=since)
        return True

    def observe(self, t: Telemetry, now: float) -> list[FlagChange]:
        """Apply one parsed message; the flags it raised or cleared."""
        if t.device_id not in self.devices:
            raise BadMessage(Rejection.UNKNOWN_DEVICE, t.device_id[:64])
        rules = self.book.for_device(t.device_id)
        known = self.states.get(t.device_id)
        last = known.last if known else None
        if last is not None and t == last:
            return []  # a duplicate delivery (MQTT QoS 1): nothing new
        if _stale(t, last):
            # meters are cumulative, so an older message adds nothing the newer one did not count
            raise BadMessage(Rejection.STALE, f"{t.device_id} at {t.timestamp:.0f} after {last.timestamp:.0f}")
        if problem := _implausible_meter(t, last, rules):
            # rejected before it touches the state: it must never reach usage, nor become the reference
            raise BadMessage(Rejection.IMPLAUSIBLE_METER, f"{t.device_id}: {problem}")
        state = self.states.setdefault(t.device_id, DeviceState(last_work_at=t.timestamp))
        changes: list[FlagChange] = []
        if problem := _tamper(t, state.last, rules, now):
            state.clean_streak = 0
            self._set(state, t.device_id, RiskFlag.TAMPER, True, t.timestamp, problem, changes)
            return changes  # a suspect message feeds no other rule
        state.clean_streak += 1
        if state.clean_streak >= rules.tamper_clear_messages:
            self._set(state, t.device_id, RiskFlag.TAMPER, False, t.timestamp, "clean messages again", changes)
        if state.last is not None:
            dh, df = t.working_hours - state.last.working_hours, t.fuel - state.last.fuel
            if dh > WORK_EPSILON_HOURS:
                state.worked_hours += dh
                state.hours_since_idle += dh
                state.last_work_at = t.timestamp
                self._fuel(state, t, rules, dh, df, changes)
        self._geofence(state, t, rules, changes)
        state.last = t
        changes += self._idle(t.device_id, state, rules, now)
        return changes

    def tick(self, now: float) -> list[FlagChange]:
        """The idle timer: evaluates every known device, silent ones included."""
        changes = []
        for device_id, state in self.states.items():
            changes += self._idle(device_id, state, self.book.for_device(device_id), now)
        return changes

    def _idle(self, device_id: str, state: DeviceState, rules: DeviceRules, now: float) -> list[FlagChange]:
        changes: list[FlagChange] = []
        if RiskFlag.IDLE in state.flags:
            if state.hours_since_idle >= rules.idle_clear_hours:
                self._set(state, device_id, RiskFlag.IDLE, False, now, "working again", changes)
        elif state.last_work_at is not None and now - state.last_work_at > rules.idle_hours * 3600:
            state.hours_since_idle = 0.0
            idle_for = (now - state.last_work_at) / 3600
            self._set(state, device_id, RiskFlag.IDLE, True, now, f"no work for {idle_for:.1f} h", changes)
        return changes

    def _fuel(self, state, t, rules, dh, df, changes) -> None:
        window = state.fuel_window
        window.append((dh, df))
        while len(window) > 1 and sum(h for h, _ in window) - window[0][0] >= rules.fuel_window_hours:
            window.popleft()
        hours = sum(h for h, _ in window)
        if hours < rules.fuel_min_hours:
            return
        rate = sum(f for _, f in window) / hours
        if rate > rules.fuel_max_l_per_hour:
            self._set(
                state, t.device_id, RiskFlag.FUEL, True, t.timestamp, f"{rate:.1f} l/h over {hours:.1f} h", changes
            )
        elif rate < rules.fuel_clear_l_per_hour:
            self._set(state, t.device_id, RiskFlag.FUEL, False, t.timestamp, f"{rate:.1f} l/h", changes)

    def _geofence(self, state, t, rules, changes) -> None:
        inside = any(_inside(t.lat, t.lon, polygon) for polygon in rules.geofence)
        state.inside_streak, state.outside_streak = (
            (state.inside_streak + 1, 0) if inside else (0, state.outside_streak + 1)
        )
        if state.outside_streak >= rules.geofence_confirm:
            self._set(state, t.device_id, RiskFlag.GEOFENCE, True, t.timestamp, f"at {t.lat:.4f}, {t.lon:.4f}", changes)
        elif state.inside_streak >= rules.geofence_confirm:
            self._set(state, t.device_id, RiskFlag.GEOFENCE, False, t.timestamp, "back inside", changes)

    @staticmethod
    def _set(state, device_id, flag, raised, at, detail, changes) -> None:
        if (flag in state.flags) == raised:
            return  # already so: one incident, one change
        state.flags = state.flags | flag if raised else state.flags & ~flag
        changes.append(FlagChange(device_id, flag, raised, at, detail, state.flags))


def _stale(t: Telemetry, last: Telemetry | None) -> bool:
    """Not after the last message, and no meter beyond it: an earlier message arriving late."""
    return (
        last is not None
        and t.timestamp <= last.timestamp
        and t.working_hours <= last.working_hours
        and t.fuel <= last.fuel
    )


def _implausible_meter(t: Telemetry, last: Telemetry | None, rules: DeviceRules) -> str | None:
    """Why the engine-hour meter cannot be read so: beyond :data:`MAX_METER_HOURS`, or further ahead of
    the last message than the time between them allows (a meter running backwards, or a timestamp not
    after the last, is tamper: see :func:`_tamper`)."""
    if t.working_hours > MAX_METER_HOURS:
        return f"meter at {t.working_hours:.6g} h, beyond {MAX_METER_HOURS:.0f} h"
    if last is None or t.timestamp <= last.timestamp:
        return None
    allowed = (t.timestamp - last.timestamp) / 3600 * rules.max_meter_rate + METER_TOLERANCE_HOURS
    if (ahead := t.working_hours - last.working_hours) > allowed:
        return f"meter {ahead:.6g} h ahead in {t.timestamp - last.timestamp:.0f} s (at most {allowed:.3g} h)"
    return None


def _tamper(t: Telemetry, last: Telemetry | None, rules: DeviceRules, now: float) -> str | None:
    if t.timestamp > now + rules.max_clock_skew_s:
        return f"timestamp {t.timestamp - now:.0f} s in the future"
    if t.timestamp < now - rules.max_age_s:
        return f"timestamp {(now - t.timestamp) / 86_400:.1f} days old"
    if last is None:
        return None
    if t.timestamp <= last.timestamp:
        return "timestamp not after the previous message"
    if t.working_hours < last.working_hours or t.fuel < last.fuel:
        return "a meter ran backwards"
    km = _distance_km(last.lat, last.lon, t.lat, t.lon)
    if km / ((t.timestamp - last.timestamp) / 3600) > rules.max_speed_kmh and km > 1:
        return f"moved {km:.0f} km in {t.timestamp - last.timestamp:.0f} s"
    return None


def _inside(lat: float, lon: float, polygon) -> bool:
    """Ray casting; points on an edge count as inside."""
    inside = False
    n = len(polygon)
    for i in range(n):
        (y1, x1), (y2, x2) = polygon[i], polygon[(i + 1) % n]
        on_line = (x2 - x1) * (lat - y1) == (y2 - y1) * (lon - x1)
        if on_line and min(y1, y2) <= lat <= max(y1, y2) and min(x1, x2) <= lon <= max(x1, x2):
            return True  # on the edge
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))
