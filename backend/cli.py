"""``yinqi``: the operator's command line. Every expected failure is one line on stderr."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

import click

from backend.core.config import Settings
from backend.core.errors import ChainAlreadyRunning, ChainError, YinqiError

log = logging.getLogger("yinqi")


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except YinqiError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: long-running commands wait on it, then clean up."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress (INFO) to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Yinqi (银企): receivables financing, revolving credit and IoT leasing on one EVM chain."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = Settings.from_env()
    except YinqiError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.option("--host", help="Interface to listen on [YINQI_CHAIN_HOST, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [YINQI_CHAIN_PORT, 8545].")
@click.pass_obj
@_one_line_errors
def chain(settings: Settings, host: str | None, port: int | None) -> None:
    """Run the local chain (anvil, dev accounts, state kept in .yinqi/) until Ctrl-C."""
    from backend.local.node import LocalChain

    settings = replace(settings, chain_host=host or settings.chain_host, chain_port=port or settings.chain_port)
    node = LocalChain(settings)
    stop = _stop_on_signals()
    try:
        node.start()
    except ChainAlreadyRunning as exc:
        click.echo(f"{exc}: nothing to start.")
        return
    click.echo(f"Local chain up at {node.url} (chain id {settings.chain_id}); state in {settings.chain_state_file}")
    click.echo("Press Ctrl-C to stop.")
    try:
        while not stop.wait(0.5):
            if (code := node.exit_code()) is not None:
                raise ChainError(f"anvil exited with code {code}; see {settings.home / 'anvil.log'}")
    finally:
        node.stop()
    click.echo("Local chain stopped (state saved).")


@main.command("deploy")
@click.option("--network", default=None, help="'local' (default) or an ape network choice, e.g. ethereum:sepolia.")
@click.option("--fresh", is_flag=True, help="Deploy everything anew even if the manifest is live.")
@click.pass_obj
@_one_line_errors
def deploy_command(settings: Settings, network: str | None, fresh: bool) -> None:
    """Deploy every contract and write deployments/<chain id>.json (a no-op when up to date)."""
    from backend.services.deploy import deploy

    result = deploy(settings, network, fresh=fresh)
    if result.deployed:
        click.echo(f"Deployed {', '.join(result.deployed)} to chain {result.manifest.chain_id}.")
    for grant in result.granted:
        click.echo(f"Granted {grant}.")
    if not result.deployed and not result.granted:
        click.echo(f"Chain {result.manifest.chain_id} is up to date: nothing to deploy.")
    for name, record in result.manifest.contracts.items():
        click.echo(f"  {name:<20} {record.address}")
    click.echo(f"Manifest: {result.path}")


@main.command()
@click.pass_obj
@_one_line_errors
def demo(settings: Settings) -> None:
    """Bring up the whole demo on the local chain, print how to connect, stop on Ctrl-C."""
    from backend.demo import run_demo

    run_demo(settings, _stop_on_signals(), echo=click.echo)


@main.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_obj
@_one_line_errors
def api(settings: Settings, host: str, port: int) -> None:
    """Serve the read-only API and the web frontend (hypercorn) until Ctrl-C; follows the chain into
    the event index ($YINQI_HOME/index.sqlite)."""
    import asyncio
    import signal as signals

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from backend.api import create_app
    from backend.api.config import ApiConfig

    app = create_app(ApiConfig.from_env())
    context = app.extensions["yinqi"]
    context.index()  # connect, read the manifest and catch the index up before taking requests
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.graceful_timeout = 5.0
    config.accesslog = None

    async def main_() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signals.SIGINT, signals.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        click.echo(f"Yinqi API and web UI on http://{host}:{port}/ (chain {context.manifest.chain_id})")
        await serve(app, config, mode="wsgi", shutdown_trigger=stop.wait)

    try:
        asyncio.run(main_())
    finally:
        context.close()


# --- receivables ----------------------------------------------------------------------------------


class _Ops:
    """What a `yinqi receivable` command needs: the chain, its manifest, the service, a signer."""

    def __init__(self, settings: Settings, network: str | None, signer: str | None) -> None:
        from backend.core.chain import connect
        from backend.core.manifest import Manifest
        from backend.core.network import rpc_url_for
        from backend.services.receivables import ReceivablesService

        self.w3 = connect(rpc_url_for(network, settings), settings.rpc_timeout)
        self.manifest = Manifest.for_chain(settings, self.w3)
        self.service = ReceivablesService(self.w3, self.manifest)
        self._signer_spec = signer

    @property
    def signer(self):
        from backend.core.accounts import signer_from_spec

        if not self._signer_spec:
            raise YinqiError("this command signs a transaction: pass --signer dev:N, env:NAME or keystore:PATH")
        return signer_from_spec(self._signer_spec, self.w3.eth.chain_id)


def _due_timestamp(text: str) -> int:
    """``2027-03-31`` (00:00 UTC that day) or ``90d`` (that many days from now)."""
    import datetime as dt

    from backend.core.errors import ConfigError

    if text.endswith("d") and text[:-1].isdigit():
        return int((dt.datetime.now(dt.UTC) + dt.timedelta(days=int(text[:-1]))).timestamp())
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"due date must be YYYY-MM-DD or Nd (days from now), got {text!r}") from None
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _print_receivable(view) -> None:
    import datetime as dt

    from backend.core.money import format_amount

    due = dt.datetime.fromtimestamp(view.due_date, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lineage = f" part of #{view.parent}" if view.parent is not None else ""
    parts = f" split into {', '.join(f'#{p}' for p in view.parts)}" if view.parts else ""
    click.echo(
        f"#{view.id} {view.status:<9} {format_amount(view.amount):>16} DCNY (outstanding "
        f"{format_amount(view.outstanding)}) due {due}; debtor {view.debtor}; holder {view.holder or '-'}"
        f"{' [financed]' if view.financed else ''}{lineage}{parts}"
    )


@main.group()
@click.option("--network", default=None, help="'local' (default) or an ape network choice.")
@click.option("--signer", default=None, help="Who signs: dev:N (local chain), env:NAME or keystore:PATH.")
@click.pass_context
def receivable(ctx: click.Context, network: str | None, signer: str | None) -> None:
    """Supply-chain receivables: issue, split, transfer, finance, repay, default, show, list."""
    ctx.obj = (ctx.obj, network, signer)


def _ops(ctx_obj) -> _Ops:
    settings, network, signer = ctx_obj
    return _Ops(settings, network, signer)


@receivable.command("issue")
@click.option("--supplier", required=True, help="The supplier's address.")
@click.option("--amount", required=True, help="Face amount in DCNY, e.g. 500000 or 1,250.50.")
@click.option("--due", required=True, help="Due date: YYYY-MM-DD or Nd (days from now).")
@click.option("--ref", "ref", required=True, help="The debtor's unique reference (≤ 32 bytes), e.g. a PO number.")
@click.option(
    "--invoice", type=click.Path(exists=True, dir_okay=False), help="Invoice file; its keccak hash goes on chain."
)
@click.pass_obj
@_one_line_errors
def receivable_issue(obj, supplier: str, amount: str, due: str, ref: str, invoice: str | None) -> None:
    """The debtor (signer) issues a receivable to a supplier."""
    from pathlib import Path

    from web3 import Web3

    from backend.core.money import parse_amount

    ops = _ops(obj)
    invoice_hash = Web3.keccak(Path(invoice).read_bytes()) if invoice else bytes(32)
    rid = ops.service.issue(ops.signer, supplier, parse_amount(amount), _due_timestamp(due), invoice_hash, ref)
    _print_receivable(ops.service.show(rid))


@receivable.command("split")
@click.argument("rid", type=int)
@click.option("--part", "parts", multiple=True, required=True, help="ADDRESS=AMOUNT, once per part.")
@click.pass_obj
@_one_line_errors
def receivable_split(obj, rid: int, parts: tuple[str, ...]) -> None:
    """The holder (signer) splits a receivable into parts for itself and its suppliers."""
    from backend.core.errors import ConfigError
    from backend.core.money import parse_amount

    pairs = []
    for part in parts:
        holder, sep, amount = part.partition("=")
        if not sep:
            raise ConfigError(f"--part must be ADDRESS=AMOUNT, got {part!r}")
        pairs.append((holder, parse_amount(amount)))
    ops = _ops(obj)
    for new_id in ops.service.split(ops.signer, rid, pairs):
        _print_receivable(ops.service.show(new_id))


@receivable.command("transfer")
@click.argument("rid", type=int)
@click.option("--to", "to", required=True, help="The receiving supplier's address.")
@click.pass_obj
@_one_line_errors
def receivable_transfer(obj, rid: int, to: str) -> None:
    """The holder (signer) passes a receivable to one of its suppliers."""
    ops = _ops(obj)
    ops.service.transfer(ops.signer, rid, to)
    _print_receivable(ops.service.show(rid))


@receivable.command("finance")
@click.argument("rid", type=int)
@click.pass_obj
@_one_line_errors
def receivable_finance(obj, rid: int) -> None:
    """The holder (signer) applies for financing; approval pays the advance at once."""
    from backend.core.money import format_amount

    ops = _ops(obj)
    outcome = ops.service.finance(ops.signer, rid)
    if outcome.approved:
        click.echo(f"Approved: {format_amount(outcome.advance)} DCNY paid to {ops.signer.address}.")
    else:
        click.echo(f"Refused: {outcome.reason} (recorded on chain).")
    _print_receivable(ops.service.show(rid))


@receivable.command("repay")
@click.argument("rid", type=int)
@click.option("--amount", required=True, help="Amount in DCNY.")
@click.pass_obj
@_one_line_errors
def receivable_repay(obj, rid: int, amount: str) -> None:
    """The debtor (signer) repays all or part of a receivable to its holder."""
    from backend.core.money import parse_amount

    ops = _ops(obj)
    ops.service.repay(ops.signer, rid, parse_amount(amount))
    _print_receivable(ops.service.show(rid))


@receivable.command("default")
@click.argument("rid", type=int)
@click.pass_obj
@_one_line_errors
def receivable_default(obj, rid: int) -> None:
    """Mark an overdue receivable defaulted (anyone may, after maturity plus grace)."""
    ops = _ops(obj)
    ops.service.mark_default(ops.signer, rid)
    _print_receivable(ops.service.show(rid))


@receivable.command("show")
@click.argument("rid", type=int)
@click.pass_obj
@_one_line_errors
def receivable_show(obj, rid: int) -> None:
    """One receivable's live state and lineage."""
    ops = _ops(obj)
    _print_receivable(ops.service.show(rid))


@receivable.command("list")
@click.option("--participant", required=True, help="Address whose receivables to list (owed or held).")
@click.pass_obj
@_one_line_errors
def receivable_list(obj, participant: str) -> None:
    """Every receivable a participant owes, holds or ever held."""
    ops = _ops(obj)
    views = ops.service.list_by_participant(participant)
    for view in views:
        _print_receivable(view)
    if not views:
        click.echo("No receivables.")


# --- credit scoring ---------------------------------------------------------------------------------


@main.group()
def credit() -> None:
    """Merchant credit scoring: generate data, train the model, explain a decision."""


@credit.command("generate")
@click.option("--merchants", type=click.IntRange(1), default=2_000, show_default=True)
@click.option("--months", type=click.IntRange(2), default=12, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="CSV to write.")
@_one_line_errors
def credit_generate(merchants: int, months: int, seed: int, out: str) -> None:
    """Write synthetic merchant histories in the article's CSV format."""
    from oracles.credit.synthetic import generate

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
@_one_line_errors
def credit_train(data_path: str, target: str, positive: str | None, drop: tuple[str, ...], out: str, seed: int) -> None:
    """Train xgboost (with the article's RandomForest as baseline); last line: metrics as JSON."""
    import json

    from oracles.credit import train

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
@_one_line_errors
def credit_score(model_dir: str, data_path: str, merchant: str, policy_path: str | None) -> None:
    """Explain one merchant's decision: probability, score, band, limit and the factors behind it."""
    import pandas as pd

    from oracles.credit.model import CreditModel
    from oracles.credit.policy import DEFAULT_POLICY, Policy
    from oracles.credit.scoring import decide
    from oracles.errors import DataError

    try:
        history = pd.read_csv(data_path)
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {data_path} ({str(exc).splitlines()[0]})") from None
    rows = history[history.get("merchant_id", pd.Series(dtype=str)).astype(str) == merchant]
    if rows.empty:
        raise DataError(f"merchant {merchant!r} is not in {data_path}")
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


@main.group("credit-oracle")
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
@click.pass_obj
@_one_line_errors
def credit_oracle_run(
    settings: Settings, data_dir, consents_dir, model_dir, policy_path, state, signer, interval, batch_size, once
) -> None:
    """Score consenting merchants and push changed limits on chain until Ctrl-C."""
    import asyncio
    from pathlib import Path

    from oracles.credit.daemon import CreditOracleConfig, run
    from oracles.credit.policy import DEFAULT_POLICY

    config = CreditOracleConfig(
        data_dir=Path(data_dir),
        consents_dir=Path(consents_dir),
        model_dir=Path(model_dir),
        policy=Path(policy_path) if policy_path else DEFAULT_POLICY,
        state=Path(state) if state else settings.home / "credit-oracle.sqlite",
        reasons=settings.home / "credit" / "reasons.json",
        signer=signer,
        interval=interval,
        batch_size=batch_size,
        once=once,
        settings=settings,
    )
    asyncio.run(run(config))


def _broker(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


@main.group("iot-oracle")
def iot_oracle() -> None:
    """The IoT oracle daemon."""


@iot_oracle.command("run")
@click.option("--broker", default="127.0.0.1:1883", show_default=True, help="MQTT broker HOST:PORT.")
@click.option("--group", default=None, help="Shared subscription group: instances in one group split the fleet.")
@click.option(
    "--client-id",
    default="yinqi-iot-oracle",
    show_default=True,
    help="Fixed MQTT client id (the broker keeps its session).",
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
@click.pass_obj
@_one_line_errors
def iot_oracle_run(
    settings: Settings,
    broker,
    group,
    client_id,
    rules_path,
    state,
    signer,
    flush_interval,
    tick_interval,
    lease_refresh,
    connect_attempts,
) -> None:
    """Apply device telemetry to the rules and push usage and risk flags on chain until Ctrl-C."""
    import asyncio
    from pathlib import Path

    from oracles.iot.daemon import IotOracleConfig, run
    from oracles.iot.rules import DEFAULT_RULES

    host, port = _broker(broker)
    config = IotOracleConfig(
        broker_host=host,
        broker_port=port,
        group=group,
        client_id=client_id,
        rules=Path(rules_path) if rules_path else DEFAULT_RULES,
        state=Path(state) if state else settings.home / "iot-oracle.sqlite",
        signer=signer,
        flush_interval=flush_interval,
        tick_interval=tick_interval,
        lease_refresh=lease_refresh,
        connect_attempts=connect_attempts,
        settings=settings,
    )
    asyncio.run(run(config))


@main.group("devices")
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
@click.pass_obj
@_one_line_errors
def devices_simulate(settings: Settings, broker, count, rate, scenario, messages, duration, speedup, prefix) -> None:
    """Publish the article's telemetry for a simulated fleet (device/<id>/data, QoS 1) until Ctrl-C."""
    import asyncio
    import json

    from oracles.iot.simulator import fleet, simulate

    host, port = _broker(broker)
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


if __name__ == "__main__":
    main()
