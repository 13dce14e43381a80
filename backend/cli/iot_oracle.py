"""``yinqi iot-oracle``: the IoT oracle daemon."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from backend.cli.common import CliContext, broker_address, cosign_options, metrics_options, pass_cli
from oracles.iot.daemon import IotOracleConfig, run
from oracles.iot.rules import DEFAULT_RULES


@click.group("iot-oracle")
def iot_oracle() -> None:
    """The IoT oracle daemon."""


@iot_oracle.command("run")
@click.option("--broker", default="127.0.0.1:1883", show_default=True, help="MQTT broker HOST:PORT.")
@click.option("--group", default=None, help="Shared subscription group: instances in one group split the fleet.")
@click.option(
    "--client-id",
    default=None,
    help="Fixed MQTT client id, so the broker keeps its session [yinqi-iot-oracle; co-signing: one per operator].",
)
@click.option(
    "--rules",
    "rules_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Rules TOML [oracles/iot/rules.toml].",
)
@click.option("--state", default=None, help="Device state and outbox SQLite file [$YINQI_HOME/iot-oracle.sqlite].")
@click.option(
    "--signer", default="dev:8", show_default=True, help="Operator key: dev:N (local chain), env:NAME or keystore:PATH."
)
@click.option(
    "--flush-interval",
    type=click.FloatRange(0.05),
    default=2.0,
    show_default=True,
    help="Seconds between report batches.",
)
@click.option(
    "--tick-interval", type=click.FloatRange(0.05), default=30.0, show_default=True, help="Seconds between idle checks."
)
@click.option(
    "--lease-refresh",
    type=click.FloatRange(0.05),
    default=30.0,
    show_default=True,
    help="Seconds between lease look-ups.",
)
@click.option(
    "--connect-attempts",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Broker connection tries at start (backoff doubles).",
)
@cosign_options(round_seconds=2.0)
@metrics_options
@pass_cli
def iot_oracle_run(
    cli: CliContext,
    broker: str,
    group: str | None,
    client_id: str | None,
    rules_path: str | None,
    state: str | None,
    signer: str,
    flush_interval: float,
    tick_interval: float,
    lease_refresh: float,
    connect_attempts: int,
    cosign_broker: str | None,
    round_seconds: float,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Apply device telemetry to the rules and push usage and risk flags on chain until Ctrl-C."""
    host, port = broker_address(broker)
    if cosign_broker:
        broker_address(cosign_broker)
    if client_id is None and not cosign_broker:
        client_id = "yinqi-iot-oracle"  # co-signing: one per operator, from its address (IotOracleConfig)
    config = IotOracleConfig(
        broker_host=host,
        broker_port=port,
        group=group,
        client_id=client_id,
        rules=Path(rules_path) if rules_path else DEFAULT_RULES,
        state=Path(state) if state else cli.settings.home / "iot-oracle.sqlite",
        signer=signer,
        flush_interval=flush_interval,
        tick_interval=tick_interval,
        lease_refresh=lease_refresh,
        connect_attempts=connect_attempts,
        cosign_broker=cosign_broker,
        round_seconds=round_seconds,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        settings=cli.settings,
    )
    asyncio.run(run(config))
