"""``yinqi credit-oracle``: the credit oracle daemon."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from backend.cli.common import CliContext, cosign_options, metrics_options, pass_cli
from oracles.credit.daemon import CreditOracleConfig, run
from oracles.credit.policy import DEFAULT_POLICY


@click.group("credit-oracle")
def credit_oracle() -> None:
    """The credit oracle daemon."""


@credit_oracle.command("run")
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True),
    help="Directory of merchant CSVs, or a SQLite file with a table merchant_months.",
)
@click.option(
    "--consents",
    "consents_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Directory of signed consents (JSON).",
)
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Trained model directory.",
)
@click.option("--policy", "policy_path", default=None, help="Policy TOML [oracles/credit/policy.toml].")
@click.option("--state", default=None, help="Outbox SQLite file [$YINQI_HOME/credit-oracle.sqlite].")
@click.option(
    "--signer", default="dev:7", show_default=True, help="Operator key: dev:N (local chain), env:NAME or keystore:PATH."
)
@click.option("--interval", type=click.FloatRange(0.1), default=60.0, show_default=True, help="Seconds between cycles.")
@click.option("--batch-size", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--once", is_flag=True, help="Run one cycle and stop.")
@click.option(
    "--reasons",
    "reasons_path",
    default=None,
    help="Where each merchant's decision and reasons are written [$YINQI_HOME/credit/reasons.json].",
)
@cosign_options(round_seconds=10.0)
@metrics_options
@pass_cli
def credit_oracle_run(
    cli: CliContext,
    data_dir: str,
    consents_dir: str,
    model_dir: str,
    policy_path: str | None,
    state: str | None,
    signer: str,
    interval: float,
    batch_size: int,
    once: bool,
    reasons_path: str | None,
    cosign_broker: str | None,
    round_seconds: float,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Score consenting merchants and push changed limits on chain until Ctrl-C."""
    settings = cli.settings
    config = CreditOracleConfig(
        data_dir=Path(data_dir),
        consents_dir=Path(consents_dir),
        model_dir=Path(model_dir),
        policy=Path(policy_path) if policy_path else DEFAULT_POLICY,
        state=Path(state) if state else settings.home / "credit-oracle.sqlite",
        reasons=Path(reasons_path) if reasons_path else settings.home / "credit" / "reasons.json",
        signer=signer,
        interval=interval,
        batch_size=batch_size,
        once=once,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        cosign_broker=cosign_broker,
        round_seconds=round_seconds,
        settings=settings,
    )
    asyncio.run(run(config))
