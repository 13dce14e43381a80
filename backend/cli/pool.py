"""``yinqi pool``: the bank's treasurers fund the financing pool and take liquidity back."""

from __future__ import annotations

import click

from backend.cli.common import CliContext, pass_cli
from backend.cli.onchain import Amount, OnChain, chain_group, checksum
from backend.core.money import format_amount
from backend.services import pool as financing_pool


def print_pool(ops: OnChain, treasurer: str | None = None) -> None:
    available = financing_pool.available(ops.w3, ops.manifest)
    line = f"Pool liquidity: {format_amount(available)} DCNY available"
    if treasurer:
        balance = ops.contract("SettlementToken").functions.balanceOf(treasurer).call()
        line += f"; {treasurer} holds {format_amount(balance)} DCNY"
    click.echo(line + ".")


@chain_group("The financing pool: deposit, withdraw, show.")
def pool() -> None:
    pass


@pool.command("deposit")
@click.option("--amount", type=Amount(), required=True, help="DCNY to move from the signer's wallet into the pool.")
@pass_cli
def pool_deposit(cli: CliContext, amount: int) -> None:
    """A treasurer (signer) funds the pool (approving exactly the amount first)."""
    ops = OnChain(cli)
    financing_pool.deposit(ops.w3, ops.manifest, ops.signer, amount)
    click.echo(f"Deposited {format_amount(amount)} DCNY.")
    print_pool(ops, ops.signer.address)


@pool.command("withdraw")
@click.option("--amount", type=Amount(), required=True, help="DCNY of free liquidity to take out.")
@click.option("--to", "to", default=None, help="Where it goes [the signer].")
@pass_cli
def pool_withdraw(cli: CliContext, amount: int, to: str | None) -> None:
    """A treasurer (signer) takes free liquidity out of the pool."""
    ops = OnChain(cli)
    receiver = checksum(to) if to else ops.signer.address
    financing_pool.withdraw(ops.w3, ops.manifest, ops.signer, receiver, amount)
    click.echo(f"Withdrew {format_amount(amount)} DCNY to {receiver}.")
    print_pool(ops, receiver)


@pool.command("show")
@pass_cli
def pool_show(cli: CliContext) -> None:
    """The pool's free liquidity."""
    print_pool(OnChain(cli))
