"""``yinqi demo``: the whole demo in the foreground."""

from __future__ import annotations

import click

from backend.cli.common import CliContext, pass_cli, stop_on_signals
from backend.demo.supervisor import run_demo


@click.command()
@pass_cli
def demo(cli: CliContext) -> None:
    """Bring up the whole demo on the local chain, print how to connect, stop on Ctrl-C."""
    run_demo(cli.settings, stop_on_signals(), echo=click.echo)
