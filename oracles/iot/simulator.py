"""A device fleet publishing the article's telemetry over MQTT, for the demo, the tests and the bench.

Timestamps are the wall clock (the oracle checks them against its own); the meters run `speedup`
times faster than real time, so a minute of demo is an hour of machine work at the default 60.
Scenarios, one per device (``mixed`` cycles through the others):

- ``normal``: works steadily at 6 l/h inside the article's region (lat 30–40, lon 110–120);
- ``idle``: keeps reporting but the engine-hour meter never moves;
- ``geofence``: works while drifting south out of the region, half a kilometre per message;
- ``fuel``: works at 25 l/h, above the article's 10 l/h threshold;
- ``tamper``: works, but from its 5th message on its meters run backwards (a swapped or reset unit).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

from oracles.iot.mqtt import FlowControlledClient, connect

SCENARIOS = ("normal", "idle", "geofence", "fuel", "tamper")
LITRES_PER_HOUR = {"normal": 6.0, "idle": 0.0, "geofence": 6.0, "fuel": 25.0, "tamper": 6.0}


@dataclass
class SimDevice:
    device_id: str
    scenario: str
    hours: float = 1000.0
    fuel: float = 6000.0
    lat: float = 35.0
    lon: float = 115.0
    sent: int = 0
    last: float | None = None

    def message(self, now: float, speedup: float) -> bytes:
        now = now if self.last is None else max(now, self.last + 0.001)  # strictly after, even flat out
        worked = 0.0 if self.last is None or self.scenario == "idle" else (now - self.last) * speedup / 3600
        self.hours += worked
        self.fuel += worked * LITRES_PER_HOUR[self.scenario]
        if self.scenario == "geofence":
            self.lat -= 0.005  # ~0.55 km: below the oracle's speed check, out of the box in a few steps
        hours, fuel = self.hours, self.fuel
        if self.scenario == "tamper" and self.sent >= 4:
            hours, fuel = self.hours - 500.0, self.fuel - 3000.0
        self.sent += 1
        self.last = now
        return json.dumps(
            {
                "device_id": self.device_id,
                "timestamp": round(now, 3),
                "location": {"lat": round(self.lat, 6), "lon": round(self.lon, 6)},
                "working_hours": round(hours, 4),
                "fuel_consumption": round(fuel, 3),
            }
        ).encode()


def fleet(count: int, scenario: str = "mixed", prefix: str = "EXC-") -> list[SimDevice]:
    if scenario != "mixed" and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: choose from {', '.join(SCENARIOS)} or mixed")
    devices = []
    for i in range(count):
        kind = SCENARIOS[i % len(SCENARIOS)] if scenario == "mixed" else scenario
        lat = 30.012 if kind == "geofence" else 35.0 + (i % 50) * 0.01
        devices.append(SimDevice(f"{prefix}{i + 1:03d}", kind, lat=lat, lon=115.0 + (i % 40) * 0.01))
    return devices


def rules_toml(devices: Iterable[SimDevice] = (), **defaults) -> str:
    """A rules file with `defaults` overriding the bank's defaults and an (empty) override table for
    each of `devices` (tests, demo). The oracle learns the leased devices from the chain: a device
    needs a table only to have rules of its own, or to be taken without a lease (a store on its own)."""
    lines = ["[defaults]"] + [f"{k} = {json.dumps(v)}" for k, v in defaults.items()]
    lines += [f'[devices."{d.device_id}"]' for d in devices]
    return "\n".join(lines) + "\n"


async def simulate(
    host: str,
    port: int,
    devices: list[SimDevice],
    *,
    rate: float = 10.0,
    messages: int | None = None,
    duration: float | None = None,
    speedup: float = 60.0,
    stop: asyncio.Event | None = None,
) -> int:
    """Publish round-robin over `devices` at `rate` messages/s (0: as fast as the broker takes them),
    QoS 1, until `messages` were sent, `duration` seconds passed or `stop` is set; how many were sent."""
    client = FlowControlledClient()
    await connect(client, host, port)
    sent, started = 0, time.monotonic()
    try:
        while (messages is None or sent < messages) and (duration is None or time.monotonic() - started < duration):
            if stop is not None and stop.is_set():
                break
            device = devices[sent % len(devices)]
            await client.send(f"device/{device.device_id}/data", device.message(time.time(), speedup))
            sent += 1
            if rate > 0:
                delay = started + sent / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        await client.drain()
    finally:
        await client.disconnect()
    return sent
