"""``yinqi lease``: usage-priced equipment leases through :class:`LeaseService`, for the lessor (offer,
cancel, assign a billed period and finance it), the lessee (accept, pay) and either (close, show)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from backend.cli.common import CliContext, pass_cli, stop_on_signals
from backend.cli.onchain import Amount, Duration, OnChain, chain_group, checksum, when
from backend.core.enums import LeaseStatus
from backend.core.errors import ConfigError, YinqiError
from backend.core.money import format_amount, parse_amount
from backend.core.statuses import RUNNING_LEASE
from backend.services.leasing import LeaseService, LeaseTerms, LeaseView
from backend.services.receivables import ReceivablesService


class Tier(click.ParamType):
    """``HOURS:PRICE``: hours up to which a period's usage costs PRICE DCNY an hour (the last tier's
    HOURS may be ``*``: it has no bound), as (hours, units)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        hours, sep, price = str(value).partition(":")
        if not sep or not (hours.strip() == "*" or hours.strip().isdigit()):
            raise ConfigError(f"--tier must be HOURS:PRICE (e.g. 8:150, or *:100 for the last), got {value!r}")
        return (0xFFFFFFFF if hours.strip() == "*" else int(hours)), parse_amount(price)


_RUNNING = {s.label for s in RUNNING_LEASE}


class Leases(OnChain):
    def __init__(self, cli: CliContext) -> None:
        super().__init__(cli)
        self.service = LeaseService(self.w3, self.manifest)

    def existing(self, lease_id: int) -> LeaseView:
        view = self.service.lease(lease_id)
        if view.status == LeaseStatus.NONE.label:
            raise YinqiError(f"no lease #{lease_id}")
        return view


def _hours(hundredths: int) -> str:
    return f"{hundredths / 100:,.2f} h"


def print_lease(ops: Leases, view: LeaseView, *, detail: bool = False) -> None:
    flags = f" flags {','.join(view.flags)}" if view.flags else ""
    click.echo(
        f"#{view.id} {view.status:<9} lessor {view.lessor} lessee {view.lessee}; {view.periods} × "
        f"{view.period_seconds // 3600} h periods, billed {view.billed}, settled {view.settled}; deposit "
        f"{format_amount(view.deposit)} DCNY{flags}"
    )
    if not detail:
        return
    if lapses_at := ops.service.lapses_at(view):
        lapsed = " (lapsed)" if ops.service.lapsed(view) else ""
        click.echo(f"  offer stands until {when(lapses_at)}{lapsed}")
    else:
        click.echo(f"  started {when(view.start)}")
    tiers = ops.service.tiers(view.id)
    schedule = ", ".join(
        f"{'above' if hours is None else 'up to ' + str(hours) + ' h'} at {format_amount(price)}/h"
        for hours, price in tiers
    )
    click.echo(f"  rent per period: {schedule}; at least {format_amount(view.minimum_rent)} DCNY")
    click.echo(
        f"  rent due {view.payment_term // 3600} h after a period ends, billed {view.report_delay // 3600} h after; "
        f"defaultable {view.grace_period // 86_400} d past due"
    )
    if view.status in (LeaseStatus.OFFERED.label, LeaseStatus.CANCELLED.label):
        return
    running = view.status in _RUNNING  # the period after the last billed one is under way
    for k in range(min(view.billed + running, view.periods)):
        p = ops.service.period(view.id, k)
        if k >= view.billed:
            click.echo(f"  period {k}: {_hours(p.usage)} so far, not billed")
            continue
        assigned = f", assigned to receivable #{p.receivable_id}" if p.receivable_id is not None else ""
        click.echo(
            f"  period {k}: {_hours(p.usage)}, rent {format_amount(p.rent)}, paid {format_amount(p.paid)}, "
            f"due {when(p.due_at)}{assigned}"
        )
    click.echo(f"  outstanding {format_amount(ops.service.outstanding(view.id))} DCNY")


def _act(cli: CliContext, lease_id: int, act: Callable[[Leases], object], *, detail: bool = False) -> None:
    """Do `act` on an existing lease, then show it as it stands."""
    ops = Leases(cli)
    ops.existing(lease_id)
    act(ops)
    print_lease(ops, ops.service.lease(lease_id), detail=detail)


@chain_group("Equipment leases: offer, accept, cancel, pay, assign, close, bill, keep, show, list.")
def lease() -> None:
    pass


@lease.command("offer")
@click.option("--lessee", required=True, help="The lessee's address.")
@click.option("--device", "device_id", required=True, help="The device id its telemetry carries (1–64 bytes).")
@click.option("--period", "period_seconds", type=Duration(), default="1d", show_default=True, help="Billing period.")
@click.option("--periods", type=click.IntRange(1, 120), required=True, help="Term, in periods.")
@click.option("--deposit", type=Amount(zero_ok=True), required=True, help="Deposit in DCNY, paid on acceptance.")
@click.option("--minimum-rent", type=Amount(zero_ok=True), required=True, help="Least rent a period costs, in DCNY.")
@click.option(
    "--tier",
    "tiers",
    type=Tier(),
    multiple=True,
    required=True,
    help="HOURS:PRICE per hour, once per tier, cheaper as hours rise (e.g. --tier 8:150 --tier *:100).",
)
@pass_cli
def lease_offer(
    cli: CliContext,
    lessee: str,
    device_id: str,
    period_seconds: int,
    periods: int,
    deposit: int,
    minimum_rent: int,
    tiers: tuple[tuple[int, int], ...],
) -> None:
    """The lessor (signer) offers a device to a lessee; the offer stands 14 days."""
    ops = Leases(cli)
    terms = LeaseTerms(period_seconds, periods, deposit, minimum_rent, tiers)
    lease_id = ops.service.offer(ops.signer, checksum(lessee), device_id, terms)
    print_lease(ops, ops.service.lease(lease_id), detail=True)


@lease.command("accept")
@click.argument("lease_id", type=int)
@pass_cli
def lease_accept(cli: CliContext, lease_id: int) -> None:
    """The lessee (signer) accepts an offer and pays its deposit; the lease starts now."""
    _act(cli, lease_id, lambda ops: ops.service.accept(ops.signer, lease_id), detail=True)


@lease.command("cancel")
@click.argument("lease_id", type=int)
@pass_cli
def lease_cancel(cli: CliContext, lease_id: int) -> None:
    """Withdraw an offer not yet accepted (its lessor, or the bank): its device is free again."""
    _act(cli, lease_id, lambda ops: ops.service.cancel_offer(ops.signer, lease_id))


@lease.command("bill")
@click.argument("lease_id", type=int)
@pass_cli
def lease_bill(cli: CliContext, lease_id: int) -> None:
    """Bill every period whose report window has closed (anyone may; paying and reporting bill too)."""

    def bill(ops: Leases) -> None:
        billed = ops.service.bill(ops.signer, lease_id)
        click.echo(f"Billed period(s) {', '.join(map(str, billed))}." if billed else "Nothing to bill yet.")

    _act(cli, lease_id, bill, detail=True)


@lease.command("pay")
@click.argument("lease_id", type=int)
@click.option("--amount", type=Amount(), default=None, help="DCNY to pay, oldest period first [all that is billed].")
@pass_cli
def lease_pay(cli: CliContext, lease_id: int, amount: int | None) -> None:
    """Pay billed rent (the lessee, or anyone for it), oldest period first, to the lessor."""
    ops = Leases(cli)
    ops.existing(lease_id)
    if amount is None:
        amount = ops.service.outstanding(lease_id)
        if not amount:
            raise YinqiError(f"lease #{lease_id} has no billed rent outstanding")
    ops.service.pay(ops.signer, lease_id, amount)
    click.echo(f"Paid {format_amount(amount)} DCNY.")
    print_lease(ops, ops.service.lease(lease_id), detail=True)


@lease.command("assign")
@click.argument("lease_id", type=int)
@click.option("--period", type=click.IntRange(0), required=True, help="The billed, unpaid period (from 0).")
@click.option("--finance", is_flag=True, help="Then apply to the bank's pool to finance the receivable.")
@pass_cli
def lease_assign(cli: CliContext, lease_id: int, period: int, finance: bool) -> None:
    """The lessor (signer) turns a billed, unpaid period into a receivable on the lessee, and may
    finance it at once."""
    ops = Leases(cli)
    ops.existing(lease_id)
    rid = ops.service.assign(ops.signer, lease_id, period)
    click.echo(f"Period {period} of lease #{lease_id} is receivable #{rid}.")
    if finance:
        outcome = ReceivablesService(ops.w3, ops.manifest).finance(ops.signer, rid)
        if outcome.approved:
            click.echo(
                f"Financed: {format_amount(outcome.advance)} DCNY paid to {ops.signer.address} "
                f"(discount {format_amount(outcome.discount)}, fee {format_amount(outcome.fee)})."
            )
        else:
            click.echo(f"Financing refused: {outcome.reason} (recorded on chain); the receivable stays yours.")


@lease.command("close")
@click.argument("lease_id", type=int)
@pass_cli
def lease_close(cli: CliContext, lease_id: int) -> None:
    """Close a lease at term end, every period settled (the lessee or the lessor): the deposit goes back."""
    _act(cli, lease_id, lambda ops: ops.service.close(ops.signer, lease_id))


@lease.command("show")
@click.argument("lease_id", type=int)
@pass_cli
def lease_show(cli: CliContext, lease_id: int) -> None:
    """One lease: its terms, rent schedule, settings and every period so far."""
    ops = Leases(cli)
    print_lease(ops, ops.existing(lease_id), detail=True)


@lease.command("keep")
@click.option("--interval", type=Duration(), default="60s", show_default=True, help="How often to look.")
@pass_cli
def lease_keep(cli: CliContext, interval: int) -> None:
    """A keeper: bill every running lease whose period's report window has closed, every INTERVAL,
    until Ctrl-C, so rent falls due without anyone's call (anyone may bill; the signer pays the gas)."""
    ops = Leases(cli)
    signer, stop = ops.signer, stop_on_signals()
    click.echo(f"Billing leases as they fall due, every {interval} s, as {signer.address}.")
    while not stop.is_set():
        try:
            for lease_id in ops.service.due_for_billing():
                billed = ops.service.bill(signer, lease_id)
                click.echo(f"Billed lease #{lease_id}: period(s) {', '.join(map(str, billed))}.")
        except YinqiError as exc:  # a node hiccup or a revert: said once, tried again next round
            click.echo(f"error: {exc}", err=True)
        stop.wait(interval)


@lease.command("list")
@click.option("--party", required=True, help="Address whose leases to list (as lessor or lessee).")
@pass_cli
def lease_list(cli: CliContext, party: str) -> None:
    """Every lease a party offered or was offered."""
    ops = Leases(cli)
    ids = ops.service.lease_ids_of(checksum(party))
    for lease_id in ids:
        print_lease(ops, ops.service.lease(lease_id))
    if not ids:
        click.echo("No leases.")
