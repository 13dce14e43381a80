"""``yinqi receivable``: supply-chain receivables through :class:`ReceivablesService`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from web3 import Web3

from backend.cli.common import CliContext, pass_cli
from backend.cli.onchain import Amount, OnChain, chain_group
from backend.core.errors import ConfigError
from backend.core.money import format_amount, parse_amount
from backend.services.receivables import ReceivablesService, ReceivableView


class DueDate(click.ParamType):
    """``2027-03-31`` (00:00 UTC that day) or ``90d`` (that many days from now), as a Unix timestamp."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if value.endswith("d") and value[:-1].isdigit():
            return int((dt.datetime.now(dt.UTC) + dt.timedelta(days=int(value[:-1]))).timestamp())
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"due date must be YYYY-MM-DD or Nd (days from now), got {value!r}") from None
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


class Part(click.ParamType):
    """``ADDRESS=AMOUNT``: one part of a split, as (holder, units)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, int]:
        holder, sep, amount = value.partition("=")
        if not sep:
            raise ConfigError(f"--part must be ADDRESS=AMOUNT, got {value!r}")
        return holder, parse_amount(amount)


class Receivables(OnChain):
    """What a `yinqi receivable` command needs: the service on the chosen chain, and a signer."""

    def __init__(self, cli: CliContext) -> None:
        super().__init__(cli)
        self.service = ReceivablesService(self.w3, self.manifest)


def print_receivable(view: ReceivableView) -> None:
    due = dt.datetime.fromtimestamp(view.due_date, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lineage = f" part of #{view.parent}" if view.parent is not None else ""
    parts = f" split into {', '.join(f'#{p}' for p in view.parts)}" if view.parts else ""
    click.echo(
        f"#{view.id} {view.status:<9} {format_amount(view.amount):>16} DCNY (outstanding "
        f"{format_amount(view.outstanding)}) due {due}; debtor {view.debtor}; holder {view.holder or '-'}"
        f"{' [financed]' if view.financed else ''}{lineage}{parts}"
    )


@chain_group("Supply-chain receivables: issue, split, transfer, finance, repay, default, recover, show, list.")
def receivable() -> None:
    pass


@receivable.command("issue")
@click.option("--supplier", required=True, help="The supplier's address.")
@click.option("--amount", type=Amount(), required=True, help="Face amount in DCNY, e.g. 500000 or 1,250.50.")
@click.option("--due", type=DueDate(), required=True, help="Due date: YYYY-MM-DD or Nd (days from now).")
@click.option("--ref", "ref", required=True, help="The debtor's unique reference (≤ 32 bytes), e.g. a PO number.")
@click.option(
    "--invoice", type=click.Path(exists=True, dir_okay=False), help="Invoice file; its keccak hash goes on chain."
)
@pass_cli
def receivable_issue(cli: CliContext, supplier: str, amount: int, due: int, ref: str, invoice: str | None) -> None:
    """The debtor (signer) issues a receivable to a supplier."""
    ops = Receivables(cli)
    invoice_hash = Web3.keccak(Path(invoice).read_bytes()) if invoice else bytes(32)
    rid = ops.service.issue(ops.signer, supplier, amount, due, invoice_hash, ref)
    print_receivable(ops.service.show(rid))


@receivable.command("split")
@click.argument("rid", type=int)
@click.option("--part", "parts", type=Part(), multiple=True, required=True, help="ADDRESS=AMOUNT, once per part.")
@pass_cli
def receivable_split(cli: CliContext, rid: int, parts: tuple[tuple[str, int], ...]) -> None:
    """The holder (signer) splits a receivable into parts for itself and its suppliers."""
    ops = Receivables(cli)
    for new_id in ops.service.split(ops.signer, rid, list(parts)):
        print_receivable(ops.service.show(new_id))


@receivable.command("transfer")
@click.argument("rid", type=int)
@click.option("--to", "to", required=True, help="The receiving supplier's address.")
@pass_cli
def receivable_transfer(cli: CliContext, rid: int, to: str) -> None:
    """The holder (signer) passes a receivable to one of its suppliers."""
    ops = Receivables(cli)
    ops.service.transfer(ops.signer, rid, to)
    print_receivable(ops.service.show(rid))


@receivable.command("finance")
@click.argument("rid", type=int)
@pass_cli
def receivable_finance(cli: CliContext, rid: int) -> None:
    """The holder (signer) applies for financing; approval pays the advance at once."""
    ops = Receivables(cli)
    outcome = ops.service.finance(ops.signer, rid)
    if outcome.approved:
        click.echo(
            f"Approved: {format_amount(outcome.advance)} DCNY paid to {ops.signer.address} "
            f"(discount {format_amount(outcome.discount)}, fee {format_amount(outcome.fee)})."
        )
    else:
        click.echo(f"Refused: {outcome.reason} (recorded on chain).")
    print_receivable(ops.service.show(rid))


@receivable.command("repay")
@click.argument("rid", type=int)
@click.option("--amount", type=Amount(), required=True, help="Amount in DCNY.")
@pass_cli
def receivable_repay(cli: CliContext, rid: int, amount: int) -> None:
    """The debtor (signer) repays all or part of a receivable to its holder."""
    ops = Receivables(cli)
    ops.service.repay(ops.signer, rid, amount)
    print_receivable(ops.service.show(rid))


@receivable.command("default")
@click.argument("rid", type=int)
@pass_cli
def receivable_default(cli: CliContext, rid: int) -> None:
    """Mark an overdue receivable defaulted (anyone may, after maturity plus grace)."""
    ops = Receivables(cli)
    ops.service.mark_default(ops.signer, rid)
    print_receivable(ops.service.show(rid))


@receivable.command("recover")
@click.argument("rid", type=int)
@click.option("--recovered", type=Amount(zero_ok=True), required=True, help="Recovered off chain, in DCNY (0: none).")
@pass_cli
def receivable_recover(cli: CliContext, rid: int, recovered: int) -> None:
    """The bank (signer) records the recovery of a defaulted receivable; the rest is written off and
    the default no longer stops financing against the debtor."""
    ops = Receivables(cli)
    ops.service.record_recovery(ops.signer, rid, recovered)
    print_receivable(ops.service.show(rid))


@receivable.command("show")
@click.argument("rid", type=int)
@pass_cli
def receivable_show(cli: CliContext, rid: int) -> None:
    """One receivable's live state and lineage."""
    print_receivable(Receivables(cli).service.show(rid))


@receivable.command("list")
@click.option("--participant", required=True, help="Address whose receivables to list (owed or held).")
@pass_cli
def receivable_list(cli: CliContext, participant: str) -> None:
    """Every receivable a participant owes, holds or ever held."""
    views = Receivables(cli).service.list_by_participant(participant)
    for view in views:
        print_receivable(view)
    if not views:
        click.echo("No receivables.")
