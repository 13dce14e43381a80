"""The article's device message, read strictly.

Topic ``device/<id>/data``; JSON payload exactly as the article's sample::

    {"device_id": "EXC-001", "timestamp": 1764115200,
     "location": {"lat": 31.23, "lon": 121.47},
     "working_hours": 1523.5, "fuel_consumption": 20871.0}

``working_hours`` and ``fuel_consumption`` are read as the machine's cumulative meters (engine hours
and litres burnt since commissioning, as construction machinery reports them); rules use the deltas
between consecutive messages. Anything else is a :class:`BadMessage` with a reason to count.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum

MAX_PAYLOAD = 4096  # bytes; the article's message is ~150


class Rejection(StrEnum):
    OVERSIZED = "oversized"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    TOPIC_MISMATCH = "topic_mismatch"
    UNKNOWN_DEVICE = "unknown_device"
    STALE = "stale"  # older than what the device already reported: a redelivery or a reordering
    IMPLAUSIBLE_METER = "implausible_meter"  # beyond any machine's meter, or ahead faster than the clock


@dataclass(frozen=True)
class Telemetry:
    device_id: str
    timestamp: float  # unix seconds
    lat: float
    lon: float
    working_hours: float  # cumulative engine-hour meter
    fuel: float  # cumulative litres


class BadMessage(ValueError):
    def __init__(self, reason: Rejection, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def parse(topic: str, payload: bytes) -> Telemetry:
    """A validated message, or :class:`BadMessage` saying why not."""
    if len(payload) > MAX_PAYLOAD:
        raise BadMessage(Rejection.OVERSIZED, f"{len(payload)} bytes > {MAX_PAYLOAD}")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadMessage(Rejection.NOT_JSON, str(exc)[:80]) from None
    if not isinstance(doc, dict):
        raise BadMessage(Rejection.NOT_OBJECT, type(doc).__name__)
    device_id = _field(doc, "device_id", str)
    location = _field(doc, "location", dict)
    telemetry = Telemetry(
        device_id=device_id,
        timestamp=_number(doc, "timestamp"),
        lat=_number(location, "lat"),
        lon=_number(location, "lon"),
        working_hours=_number(doc, "working_hours"),
        fuel=_number(doc, "fuel_consumption"),
    )
    if not device_id or len(device_id) > 64 or "/" in device_id:
        raise BadMessage(Rejection.OUT_OF_RANGE, f"device_id {device_id[:70]!r}")
    if not (-90 <= telemetry.lat <= 90 and -180 <= telemetry.lon <= 180):
        raise BadMessage(Rejection.OUT_OF_RANGE, f"location {telemetry.lat}, {telemetry.lon}")
    if telemetry.working_hours < 0 or telemetry.fuel < 0 or telemetry.timestamp <= 0:
        raise BadMessage(Rejection.OUT_OF_RANGE, "negative meter or timestamp")
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "device" or parts[2] != "data" or parts[1] != device_id:
        raise BadMessage(Rejection.TOPIC_MISMATCH, f"{topic!r} for device {device_id!r}")
    return telemetry


def _field(doc: dict, name: str, kind: type):
    if name not in doc:
        raise BadMessage(Rejection.MISSING_FIELD, name)
    value = doc[name]
    if not isinstance(value, kind):
        raise BadMessage(Rejection.WRONG_TYPE, f"{name} is {type(value).__name__}, not {kind.__name__}")
    return value


def _number(doc: dict, name: str) -> float:
    if name not in doc:
        raise BadMessage(Rejection.MISSING_FIELD, name)
    value = doc[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadMessage(Rejection.WRONG_TYPE, f"{name} is {type(value).__name__}, not a number")
    if not math.isfinite(value):
        raise BadMessage(Rejection.OUT_OF_RANGE, f"{name} is {value}")
    return float(value)
