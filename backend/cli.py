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

from backend.config import Settings
from backend.errors import ChainAlreadyRunning, ChainError, YinqiError

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
    from backend.node import LocalChain

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
    from backend.deploy import deploy

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


if __name__ == "__main__":
    main()
