"""``yinqi debtor-terms``: the bank's factoring terms per core enterprise (limit, discount rate,
advance rate, fee) and its standing (exposure, open defaults)."""

from __future__ import annotations

import click

from backend.cli.common import CliContext, pass_cli
from backend.cli.onchain import Amount, OnChain, Percent, chain_group, checksum
from backend.core.money import format_amount
from backend.services.receivables import ReceivablesService


def print_terms(ops: OnChain, debtor: str) -> None:
    t = ops.contract("Receivables").functions.debtorTerms(debtor).call()
    if not t.limit and not t.advanceRateBps:
        click.echo(f"{debtor}: no facility (no terms set).")
        return
    click.echo(
        f"{debtor}: limit {format_amount(t.limit)} DCNY, exposure {format_amount(t.exposure)} DCNY; "
        f"discount {t.rateBps / 100:g}% a year on {t.advanceRateBps / 100:g}% advanced "
        f"(haircut {(10_000 - t.advanceRateBps) / 100:g}%), fee {t.feeBps / 100:g}%; "
        f"open defaults {t.openDefaults}"
    )


@chain_group("The bank's factoring terms per core enterprise: set, show.")
def debtor_terms() -> None:
    pass


@debtor_terms.command("set")
@click.argument("debtor")
@click.option("--limit", type=Amount(zero_ok=True), required=True, help="Most financed at once, DCNY (0 stops it).")
@click.option("--rate", type=Percent(0, 4_000), required=True, help="Annual discount rate, e.g. 5.5%.")
@click.option(
    "--advance-rate",
    type=Percent(1, 10_000),
    default="100",
    show_default=True,
    help="Share of a receivable advanced, e.g. 90% (a 10% haircut).",
)
@click.option("--fee", type=Percent(0, 1_000), default="0", show_default=True, help="One-off fee, e.g. 0.2%.")
@pass_cli
def debtor_terms_set(cli: CliContext, debtor: str, limit: int, rate: int, advance_rate: int, fee: int) -> None:
    """A credit manager (signer) sets a core enterprise's terms; they price every financing from now on."""
    ops = OnChain(cli)
    account = checksum(debtor)
    ReceivablesService(ops.w3, ops.manifest).set_debtor_terms(ops.signer, account, limit, rate, advance_rate, fee)
    print_terms(ops, account)


@debtor_terms.command("show")
@click.argument("debtor")
@pass_cli
def debtor_terms_show(cli: CliContext, debtor: str) -> None:
    """A core enterprise's terms, exposure and open defaults."""
    print_terms(OnChain(cli), checksum(debtor))
