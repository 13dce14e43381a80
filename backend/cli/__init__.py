"""``yinqi``: the operator's command line. Every expected failure is one line on stderr.

One module per command group; the root group imports a command's module only when that command
runs (or shows its own help), so ``yinqi --help`` loads none of them.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any, NamedTuple

import click
from click.utils import make_default_short_help

from backend.cli.common import CliContext
from backend.core.config import Settings
from backend.core.errors import YinqiError


class LazyCommand(NamedTuple):
    target: str  # "module:attribute" of the click command or group
    summary: str  # its help's first sentence, what `yinqi --help` lists without importing it


COMMANDS: dict[str, LazyCommand] = {
    "api": LazyCommand(
        "backend.cli.api:api",
        "Serve the read-only API and the web frontend (hypercorn) until Ctrl-C; follows the chain into "
        "the event index ($YINQI_HOME/index.sqlite).",
    ),
    "chain": LazyCommand(
        "backend.cli.chain:chain", "Run the local chain (anvil, dev accounts, state kept in .yinqi/) until Ctrl-C."
    ),
    "credit": LazyCommand(
        "backend.cli.credit:credit", "Merchant credit scoring: generate data, train the model, explain a decision."
    ),
    "credit-oracle": LazyCommand("backend.cli.credit_oracle:credit_oracle", "The credit oracle daemon."),
    "demo": LazyCommand(
        "backend.cli.demo:demo", "Bring up the whole demo on the local chain, print how to connect, stop on Ctrl-C."
    ),
    "debtor-terms": LazyCommand(
        "backend.cli.debtor_terms:debtor_terms",
        "The bank's factoring terms per core enterprise: set, show.",
    ),
    "deploy": LazyCommand(
        "backend.cli.deploy:deploy_command",
        "Deploy every contract and write deployments/<chain id>.json (a no-op when up to date).",
    ),
    "devices": LazyCommand("backend.cli.devices:devices", "Simulated IoT devices."),
    "iot-oracle": LazyCommand("backend.cli.iot_oracle:iot_oracle", "The IoT oracle daemon."),
    "lease": LazyCommand(
        "backend.cli.lease:lease",
        "Equipment leases: offer, accept, cancel, pay, assign, close, bill, keep, show, list.",
    ),
    "participant": LazyCommand(
        "backend.cli.participant:participant", "The participant register: onboard, roles, suspend, reinstate, list."
    ),
    "pool": LazyCommand("backend.cli.pool:pool", "The financing pool: deposit, withdraw, show."),
    "status": LazyCommand(
        "backend.cli.status:status",
        "Each service of the demo running on this home: its state, restarts and lag; the chain's height.",
    ),
    "receivable": LazyCommand(
        "backend.cli.receivable:receivable",
        "Supply-chain receivables: issue, split, transfer, finance, repay, default, recover, show, list.",
    ),
}


class RootGroup(click.Group):
    """Click's lazily loading group (``lazy`` maps a command name to where it lives), which also
    turns every expected failure (a :class:`YinqiError`) into one ``error:`` line and exit code 1."""

    def __init__(self, *args: Any, lazy: dict[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy[cmd_name].target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[cmd_name].target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries, as click lays it out, without importing a command."""
        limit = formatter.width - 6 - max(len(name) for name in self.lazy)
        rows = [(name, make_default_short_help(self.lazy[name].summary, limit)) for name in sorted(self.lazy)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except YinqiError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=RootGroup, lazy=COMMANDS)
@click.option("-v", "--verbose", is_flag=True, help="Log progress (INFO) to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Yinqi (银企): receivables financing, revolving credit and IoT leasing on one EVM chain."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = CliContext(Settings.from_env())
    except YinqiError as exc:
        raise click.UsageError(str(exc)) from None
