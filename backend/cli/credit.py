"""``yinqi credit``: synthetic data, training and one merchant's explained decision."""

from __future__ import annotations

import json

import click

from oracles.credit import train
from oracles.credit.model import CreditModel
from oracles.credit.policy import DEFAULT_POLICY, Policy
from oracles.credit.scoring import decide, merchant_rows
from oracles.credit.synthetic import generate


@click.group()
def credit() -> None:
    """Merchant credit scoring: generate data, train the model, explain a decision."""


@credit.command("generate")
@click.option("--merchants", type=click.IntRange(1), default=2_000, show_default=True)
@click.option("--months", type=click.IntRange(2), default=12, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="CSV to write.")
def credit_generate(merchants: int, months: int, seed: int, out: str) -> None:
    """Write synthetic merchant histories in the article's CSV format."""
    frame = generate(merchants, months, seed)
    frame.to_csv(out, index=False)
    rate = frame.groupby("merchant_id")["default_flag"].max().mean()
    click.echo(f"Wrote {len(frame):,} rows for {merchants:,} merchants to {out} (default rate {rate:.1%}).")


@credit.command("train")
@click.option("--data", "data_path", required=True, help="Training CSV (any table, or the article's merchant rows).")
@click.option("--target", required=True, help="The column to predict (default = positive class).")
@click.option("--positive", default=None, help="The target's label meaning default, when it is not 0/1.")
@click.option("--drop", multiple=True, help="A column to leave out (repeatable).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for the model.")
@click.option("--seed", type=int, default=42, show_default=True)
def credit_train(data_path: str, target: str, positive: str | None, drop: tuple[str, ...], out: str, seed: int) -> None:
    """Train xgboost (with the article's RandomForest as baseline); last line: metrics as JSON."""
    data = train.load(data_path, target, positive, drop)
    result = train.train(data, seed=seed, progress=True)
    summary = train.save(result, out)
    click.echo(f"Model saved to {out} ({len(data.features)} features; dropped: {', '.join(data.dropped) or 'none'}).")
    click.echo(json.dumps(summary))


@credit.command("score")
@click.option("--model", "model_dir", required=True, type=click.Path(file_okay=False), help="Trained model directory.")
@click.option("--data", "data_path", required=True, help="Merchant monthly rows (the article's CSV).")
@click.option("--merchant", required=True, help="The merchant_id to explain.")
@click.option("--policy", "policy_path", default=None, help="Policy TOML [the shipped oracles/credit/policy.toml].")
def credit_score(model_dir: str, data_path: str, merchant: str, policy_path: str | None) -> None:
    """Explain one merchant's decision: probability, score, band, limit and the factors behind it."""
    rows = merchant_rows(data_path, merchant)
    (result,) = decide(CreditModel.load(model_dir), Policy.load(policy_path or DEFAULT_POLICY), rows)
    d = result.decision
    verdict = (
        "declined" if d.declined else f"band {d.band}, limit {d.limit:,.0f} DCNY at {d.rate_bps / 100:.2f} % a year"
    )
    click.echo(f"Merchant {merchant}: probability of default {d.probability:.2%}, score {d.score}: {verdict}.")
    click.echo("What moved it most (log-odds of default):")
    for reason in result.reasons:
        value = f"{reason.value:.4g}" if isinstance(reason.value, float) else str(reason.value)
        click.echo(f"  {reason.feature:<18} = {value:<12} {reason.contribution:+.3f}")
    click.echo(f"model {result.model_sha256[:12]} · policy {result.policy_sha256[:12]}")
