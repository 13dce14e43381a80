"""Telemetry parsing and the IoT risk rules: every bad input is a counted rejection, never a crash;
every rule raises once and clears once."""

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.enums import RiskFlag
from oracles.iot.rules import DEFAULT_RULES, MAX_METER_HOURS, METER_TOLERANCE_HOURS, RuleBook, RuleEngine
from oracles.iot.telemetry import BadMessage, Rejection, Telemetry, parse

T0 = 1_800_000_000
HOUR = 3600
SAMPLE = {
    "device_id": "EXC-001",
    "timestamp": T0,
    "location": {"lat": 31.23, "lon": 115.47},
    "working_hours": 1500.0,
    "fuel_consumption": 20_000.0,
}


def message(**changes) -> bytes:
    doc = json.loads(json.dumps(SAMPLE))
    for key, value in changes.items():
        if key in ("lat", "lon"):
            doc["location"][key] = value
        else:
            doc[key] = value
    return json.dumps(doc).encode()


def test_the_articles_message_parses():
    t = parse("device/EXC-001/data", message())
    assert t == Telemetry("EXC-001", T0, 31.23, 115.47, 1500.0, 20_000.0)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("device/EXC-001/data", b"x" * 5000, Rejection.OVERSIZED),
        ("device/EXC-001/data", b"{not json", Rejection.NOT_JSON),
        ("device/EXC-001/data", b"\xff\xfe", Rejection.NOT_JSON),
        ("device/EXC-001/data", b"[1, 2]", Rejection.NOT_OBJECT),
        (
            "device/EXC-001/data",
            json.dumps({k: v for k, v in SAMPLE.items() if k != "location"}).encode(),
            Rejection.MISSING_FIELD,
        ),
        ("device/EXC-001/data", message(working_hours="12"), Rejection.WRONG_TYPE),
        ("device/EXC-001/data", message(timestamp=True), Rejection.WRONG_TYPE),
        ("device/EXC-001/data", message(lat=95.0), Rejection.OUT_OF_RANGE),
        ("device/EXC-001/data", message(fuel_consumption=-1), Rejection.OUT_OF_RANGE),
        ("device/EXC-001/data", message(timestamp=float("nan")), Rejection.OUT_OF_RANGE),
        ("device/EXC-999/data", message(), Rejection.TOPIC_MISMATCH),
    ],
)
def test_bad_messages_are_rejected_with_a_reason(topic, payload, reason):
    with pytest.raises(BadMessage) as caught:
        parse(topic, payload)
    assert caught.value.reason == reason


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "device_id": JSONISH | st.just("EXC-001"),
        "timestamp": JSONISH,
        "location": JSONISH | st.fixed_dictionaries({}, optional={"lat": JSONISH, "lon": JSONISH}),
        "working_hours": JSONISH,
        "fuel_consumption": JSONISH,
    },
)


@settings(max_examples=1_200, deadline=None)
@given(
    payload=st.one_of(
        st.binary(max_size=300),
        FIELDS.map(lambda d: json.dumps(d).encode()),
        JSONISH.map(lambda d: json.dumps(d).encode()),
    )
)
def test_generated_payloads_never_crash_the_parser(payload):
    try:
        parse("device/EXC-001/data", payload)
    except BadMessage as bad:
        assert bad.reason in set(Rejection)


def test_a_thousand_mutated_messages_are_each_counted_by_reason():
    """The article's message, broken in seeded random ways, 1,500 times: every one is accepted or
    counted under a reason; nothing escapes as another exception."""
    import random

    rng = random.Random(7)
    counts: Counter = Counter()
    for _ in range(1_500):
        doc = json.loads(json.dumps(SAMPLE))
        mutation = rng.randrange(6)
        if mutation == 0:
            doc.pop(rng.choice(list(doc)))
        elif mutation == 1:
            doc[rng.choice(list(doc))] = rng.choice([None, "x", [], {}, True, -5, 1e308 * 10])
        elif mutation == 2:
            doc["location"] = rng.choice([None, {"lat": 91}, {"lon": 1}, [31, 115], "31,115"])
        raw = json.dumps(doc).encode()
        if mutation == 3:
            raw = raw[: rng.randrange(len(raw))]
        elif mutation == 4:
            raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        elif mutation == 5:
            raw = raw + b" " * rng.choice([0, 5_000])
        try:
            parse("device/EXC-001/data", raw)
            counts["accepted"] += 1
        except BadMessage as bad:
            counts[bad.reason] += 1
    assert sum(counts.values()) == 1_500
    assert {Rejection.MISSING_FIELD, Rejection.WRONG_TYPE, Rejection.NOT_JSON, Rejection.OVERSIZED} <= counts.keys()


@pytest.fixture
def engine():
    return RuleEngine(RuleBook.load(DEFAULT_RULES), devices={"EXC-001"})  # as if EXC-001 were under lease


def feed(
    engine, hours_per_step=1.0, litres_per_hour=6.0, steps=5, start=T0, lat=31.0, lon=115.0, meters=(1000.0, 5000.0)
):
    """Hourly messages of steady work; the flag changes they caused."""
    changes = []
    h, f = meters
    for i in range(steps):
        t = Telemetry(
            "EXC-001", start + i * HOUR, lat, lon, h + i * hours_per_step, f + i * hours_per_step * litres_per_hour
        )
        changes += engine.observe(t, now=t.timestamp)
    return changes


def names(changes):
    return [(c.flag, c.raised) for c in changes]


def test_normal_work_raises_nothing(engine):
    assert feed(engine, steps=30) == []


def test_silent_device_is_flagged_idle_by_the_timer_once_and_cleared_by_work(engine):
    feed(engine, steps=2)
    assert engine.tick(T0 + 20 * HOUR) == []
    changes = engine.tick(T0 + 26 * HOUR) + engine.tick(T0 + 30 * HOUR) + engine.tick(T0 + 40 * HOUR)
    assert names(changes) == [(RiskFlag.IDLE, True)]  # once, however often the timer looks
    resumed = feed(engine, steps=3, start=T0 + 41 * HOUR, meters=(1001.0, 5006.0))
    assert names(resumed) == [(RiskFlag.IDLE, False)]


def test_leaving_the_region_raises_once_and_returning_clears_once(engine):
    changes = feed(engine, steps=2, lat=31.0, lon=119.8)
    changes += feed(engine, steps=4, start=T0 + 2 * HOUR, lat=31.0, lon=120.3, meters=(1002.0, 5012.0))  # 48 km east
    changes += feed(engine, steps=4, start=T0 + 6 * HOUR, lat=31.0, lon=119.8, meters=(1006.0, 5036.0))
    assert names(changes) == [(RiskFlag.GEOFENCE, True), (RiskFlag.GEOFENCE, False)]


def test_abnormal_fuel_raises_once_and_clears_with_hysteresis(engine):
    changes = feed(engine, steps=4, litres_per_hour=6.0)
    changes += feed(engine, steps=6, start=T0 + 4 * HOUR, litres_per_hour=25.0, meters=(1003.0, 5018.0))
    assert names(changes) == [(RiskFlag.FUEL, True)]
    changes += feed(engine, steps=14, start=T0 + 10 * HOUR, litres_per_hour=5.0, meters=(1008.0, 5143.0))
    assert names(changes) == [(RiskFlag.FUEL, True), (RiskFlag.FUEL, False)]


@pytest.mark.parametrize(
    ("second", "why"),
    [
        ({"working_hours": 990.0}, "a meter ran backwards"),
        ({"timestamp": T0 + HOUR + 3 * 86_400}, "in the future"),
        ({"lat": 39.9, "lon": 116.4}, "moved"),  # ~1,000 km in an hour
    ],
)
def test_tamper_raises_once_and_clears_after_clean_messages(engine, second, why):
    feed(engine, steps=1)
    t = Telemetry(
        **{
            "device_id": "EXC-001",
            "timestamp": T0 + HOUR,
            "lat": 31.0,
            "lon": 115.0,
            "working_hours": 1001.0,
            "fuel": 5006.0,
            **second,
        }
    )
    changes = engine.observe(t, now=T0 + HOUR)
    changes += engine.observe(t, now=T0 + HOUR)  # the same suspect message again: no second flag
    assert names(changes) == [(RiskFlag.TAMPER, True)] and why in changes[0].detail
    clean = feed(engine, steps=3, start=T0 + 2 * HOUR, meters=(1002.0, 5012.0))
    assert names(clean) == [(RiskFlag.TAMPER, False)]


def test_duplicate_delivery_is_ignored(engine):
    t = Telemetry("EXC-001", T0, 31.0, 115.0, 1000.0, 5000.0)
    assert engine.observe(t, now=T0) == [] and engine.observe(t, now=T0) == []


def test_unknown_device_is_rejected(engine):
    with pytest.raises(BadMessage) as caught:
        engine.observe(Telemetry("EXC-999", T0, 31.0, 115.0, 1.0, 1.0), now=T0)
    assert caught.value.reason == Rejection.UNKNOWN_DEVICE


def test_usage_is_the_sum_of_work(engine):
    feed(engine, steps=11, hours_per_step=0.5)
    assert engine.states["EXC-001"].worked_hours == pytest.approx(5.0)


def test_bad_rules_file_is_refused(tmp_path):
    from oracles.errors import DataError

    path = tmp_path / "rules.toml"
    path.write_text("[defaults]\nidle_hourz = 3\n")
    with pytest.raises(DataError, match="unknown setting 'idle_hourz'"):
        RuleBook.load(path)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[defaults]\nidle_hours = "24"\n', "[defaults] idle_hours must be a number, got '24'"),
        ("[defaults]\nidle_hours = true\n", "idle_hours must be a number"),
        ("[defaults]\nidle_hours = -1\n", "idle_hours must be above 0"),
        ("[defaults]\nidle_hours = nan\n", "idle_hours must be a number"),
        ("[defaults]\ngeofence_confirm = 1.5\n", "geofence_confirm must be a whole number"),
        ('[devices."EXC-001"]\nfuel_max_l_per_hour = "ten"\n', '[devices."EXC-001"] fuel_max_l_per_hour'),
        ("[defaults]\ngeofence = [[[30, 110], [30, 120]]]\n", "geofence must be a list of polygons"),
        ("[defaults]\ngeofence = [[[30, 110], [30, 120], [95, 120]]]\n", "got corner [95, 120]"),
        ('[defaults]\ngeofence = [[[30, 110], [30, 120], [40, "x"]]]\n', "geofence must be"),
        ("[defaults]\n[devices]\nEXC = 3\n", '[devices."EXC"] must be a table'),
        ("[rules]\nidle_hours = 3\n", "unknown tables ['rules']"),
    ],
)
def test_a_rules_file_is_read_against_a_schema(tmp_path, text, fragment):
    """A setting of the wrong type or out of range is refused when the file is read, naming the
    setting: never loaded, to make every message raise later."""
    from oracles.errors import DataError

    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        RuleBook.load(path)
    assert fragment in str(caught.value)


def test_the_rules_file_keeps_defaults_and_overrides_only(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[defaults]\nidle_hours = 12\n[devices."EXC-002"]\nidle_hours = 48\n')
    book = RuleBook.load(path)
    assert book.for_device("EXC-009").idle_hours == 12  # any device: the defaults
    assert book.for_device("EXC-002").idle_hours == 48
    assert RuleBook.load(DEFAULT_RULES).overrides == {}  # the shipped file lists no devices


def test_the_engine_takes_only_the_devices_it_is_given_and_times_a_silent_one_from_its_lease(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[defaults]\nidle_hours = 2\n")
    engine = RuleEngine(RuleBook.load(path), devices={"EXC-007"})
    with pytest.raises(BadMessage) as caught:
        engine.observe(Telemetry("EXC-008", T0, 31.0, 115.0, 1.0, 1.0), now=T0)
    assert caught.value.reason == Rejection.UNKNOWN_DEVICE
    assert engine.expect("EXC-007", since=T0) and not engine.expect("EXC-007", since=T0 + 1)
    assert engine.tick(T0 + 2 * HOUR) == []
    (change,) = engine.tick(T0 + 2 * HOUR + 1)  # never heard from, two hours after its lease began
    assert (change.device_id, change.flag, change.raised) == ("EXC-007", RiskFlag.IDLE, True)


def test_an_older_message_arriving_late_is_stale_not_tamper(engine):
    feed(engine, steps=3)
    first = Telemetry("EXC-001", T0, 31.0, 115.0, 1000.0, 5000.0)
    with pytest.raises(BadMessage) as caught:
        engine.observe(first, now=T0 + 3 * HOUR)  # a redelivery after newer messages
    assert caught.value.reason == Rejection.STALE
    assert RiskFlag.TAMPER not in engine.states["EXC-001"].flags


def test_a_meter_ahead_of_the_clock_is_rejected_and_never_counted_as_work(engine):
    feed(engine, steps=3)  # the meter at 1002 h, T0 + 2 h
    state = engine.states["EXC-001"]
    before = (state.last, state.worked_hours, state.flags)
    absurd = Telemetry("EXC-001", T0 + 3 * HOUR, 31.0, 115.0, 1e30, 5018.0)
    with pytest.raises(BadMessage) as caught:
        engine.observe(absurd, now=absurd.timestamp)
    assert caught.value.reason == Rejection.IMPLAUSIBLE_METER
    assert (state.last, state.worked_hours, state.flags) == before  # it touched nothing
    assert feed(engine, steps=2, start=T0 + 3 * HOUR, meters=(1003.0, 5018.0)) == []  # the device goes on
    assert engine.states["EXC-001"].worked_hours == pytest.approx(4.0)


def test_a_meter_may_run_as_fast_as_the_clock_plus_its_resolution(engine):
    feed(engine, steps=1)  # 1000 h at T0
    limit = 1.0 + METER_TOLERANCE_HOURS  # an hour later
    engine.observe(Telemetry("EXC-001", T0 + HOUR, 31.0, 115.0, 1000.0 + limit - 0.001, 5006.0), now=T0 + HOUR)
    with pytest.raises(BadMessage) as caught:
        late = Telemetry("EXC-001", T0 + 2 * HOUR, 31.0, 115.0, 1000.0 + 2 * limit + 0.01, 5012.0)
        engine.observe(late, now=T0 + 2 * HOUR)
    assert caught.value.reason == Rejection.IMPLAUSIBLE_METER


def test_a_first_message_beyond_any_meter_is_rejected_and_leaves_no_state(engine):
    with pytest.raises(BadMessage) as caught:
        engine.observe(Telemetry("EXC-001", T0, 31.0, 115.0, MAX_METER_HOURS + 1, 5000.0), now=T0)
    assert caught.value.reason == Rejection.IMPLAUSIBLE_METER
    assert "EXC-001" not in engine.states


def test_the_meter_rate_is_a_rule_a_simulator_may_raise(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[defaults]\nmax_meter_rate = 60\n[devices."EXC-001"]\n')  # a table: taken without a lease
    engine = RuleEngine(RuleBook.load(path))
    feed(engine, steps=3, hours_per_step=50.0, litres_per_hour=6.0)  # 50 engine hours per hour of clock
    assert engine.states["EXC-001"].worked_hours == pytest.approx(100.0)


def test_the_store_counts_an_implausible_meter_and_keeps_it_out_of_usage(tmp_path):
    from oracles.iot.store import DeviceStore, LeaseInfo, Message

    store = DeviceStore(tmp_path / "iot.sqlite", RuleEngine(RuleBook.load(DEFAULT_RULES), devices={"EXC-001"}))
    leases = {"EXC-001": LeaseInfo(lease_id=7, start=T0 - HOUR, period_seconds=86_400, periods=30)}
    meters = [(T0, 1000.0), (T0 + HOUR, 1001.0), (T0 + 2 * HOUR, 1e30), (T0 + 3 * HOUR, 1002.5)]
    result = store.apply(
        [Message("device/EXC-001/data", message(timestamp=t, working_hours=h)) for t, h in meters],
        T0 + 3 * HOUR,
        leases,
    )
    assert result.accepted == 3 and result.rejected == {Rejection.IMPLAUSIBLE_METER: 1}
    assert store.usage() == {(7, 0): pytest.approx(2.5)}
    assert store.counters() == {"accepted": 3, "implausible_meter": 1}
    store.close()
