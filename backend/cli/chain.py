"""``yinqi chain``: the local chain in the foreground."""

from __future__ import annotations

from dataclasses import replace

import click

from backend.cli.common import CliContext, pass_cli, stop_on_signals
from backend.core.errors import ChainAlreadyRunning, ChainError
from backend.local.node import LocalChain


@click.command()
@click.option("--host", help="Interface to listen on [YINQI_CHAIN_HOST, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [YINQI_CHAIN_PORT, 8545].")
@pass_cli
def chain(cli: CliContext, host: str | None, port: int | None) -> None:
    """Run the local chain (anvil, dev accounts, state kept in .yinqi/) until Ctrl-C."""
    settings = cli.settings
    settings = replace(settings, chain_host=host or settings.chain_host, chain_port=port or settings.chain_port)
    node = LocalChain(settings)
    stop = stop_on_signals()
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
