"""``yinqi devices``: a simulated fleet publishing telemetry."""

from __future__ import annotations

import asyncio
import json

import click

from backend.cli.common import broker_address
from oracles.iot.simulator import fleet, simulate


@click.group("devices")
def devices() -> None:
    """Simulated IoT devices."""


@devices.command("simulate")
@click.option("--broker", default="127.0.0.1:1883", show_default=True, help="MQTT broker HOST:PORT.")
@click.option("--count", type=click.IntRange(1, 100_000), default=5, show_default=True, help="Devices in the fleet.")
@click.option(
    "--rate",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Messages per second over the fleet (0: flat out).",
)
@click.option(
    "--scenario",
    type=click.Choice(["normal", "idle", "geofence", "fuel", "tamper", "mixed"]),
    default="mixed",
    show_default=True,
)
@click.option("--messages", type=click.IntRange(1), default=None, help="Stop after this many messages.")
@click.option("--duration", type=click.FloatRange(0.1), default=None, help="Stop after this many seconds.")
@click.option(
    "--speedup", type=click.FloatRange(1), default=60.0, show_default=True, help="Machine hours per real hour."
)
@click.option("--prefix", default="EXC-", show_default=True, help="Device id prefix (ids are PREFIX001, PREFIX002, …).")
def devices_simulate(
    broker: str,
    count: int,
    rate: float,
    scenario: str,
    messages: int | None,
    duration: float | None,
    speedup: float,
    prefix: str,
) -> None:
    """Publish the article's telemetry for a simulated fleet (device/<id>/data, QoS 1) until Ctrl-C."""
    host, port = broker_address(broker)
    try:
        sent = asyncio.run(
            simulate(
                host,
                port,
                fleet(count, scenario, prefix),
                rate=rate,
                messages=messages,
                duration=duration,
                speedup=speedup,
            )
        )
    except KeyboardInterrupt:
        return
    click.echo(json.dumps({"sent": sent}))
