"""``yinqi participant``: the bank's registrars keep the participant register (onboard, roles, suspend,
reinstate, list)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from web3 import Web3

from backend.cli.common import CliContext, pass_cli
from backend.cli.onchain import OnChain, chain_group, checksum, when
from backend.core.enums import Role
from backend.core.errors import ConfigError, YinqiError
from backend.services import participants as registry
from backend.services.participants import ParticipantView, bind_merchant_id


def role_name(role: Role) -> str:
    return role.name.lower().replace("_", "-")


class Roles(click.ParamType):
    """Comma-separated role names (``supplier,core-enterprise``), as the registry's bit mask."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Role:
        if isinstance(value, Role):
            return value
        known = {role_name(r): r for r in Role}
        mask = Role(0)
        for part in filter(None, (p.strip().lower() for p in str(value).split(","))):
            if part not in known:
                raise ConfigError(f"unknown role {part!r}: roles are {', '.join(known)}")
            mask |= known[part]
        if not mask:
            raise ConfigError("give at least one role")
        return mask


def print_participant(p: ParticipantView) -> None:
    roles = ",".join(role_name(r) for r in Role if p.roles & r)
    state = "SUSPENDED" if p.suspended else "active"
    click.echo(f"{p.address} {state:<9} {p.name or '-'} [{roles}] since {when(p.onboarded_at)}")


def _act(cli: CliContext, address: str, action: Callable[[OnChain, str], Any]) -> None:
    """`action(ops, account)` by the signer, then the participant as it now stands."""
    ops = OnChain(cli)
    account = checksum(address)
    action(ops, account)
    found = registry.participant(ops.w3, ops.manifest, account)
    if found is None:
        raise YinqiError(f"{account} is not onboarded")
    print_participant(found)


@chain_group("The participant register: onboard, roles, suspend, reinstate, list.")
def participant() -> None:
    pass


@participant.command("onboard")
@click.argument("address")
@click.option("--name", required=True, help="The participant's legal name, as shown to everyone.")
@click.option("--roles", type=Roles(), required=True, help="Comma-separated: " + ", ".join(map(role_name, Role)))
@click.option(
    "--kyc",
    "kyc",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The KYC dossier; its keccak hash goes on chain [none recorded].",
)
@click.option("--merchant-id", default=None, help="For a merchant: the id the data platform knows it by.")
@pass_cli
def participant_onboard(
    cli: CliContext, address: str, name: str, roles: Role, kyc: str | None, merchant_id: str | None
) -> None:
    """A registrar (signer) admits a participant in its roles."""
    if merchant_id is not None and not roles & Role.MERCHANT:
        raise ConfigError("--merchant-id is for a participant onboarded as a merchant")
    kyc_hash = Web3.keccak(Path(kyc).read_bytes()) if kyc else bytes(32)

    def admit(ops: OnChain, account: str) -> None:
        registry.onboard(ops.w3, ops.manifest, ops.signer, account, roles, name, kyc_hash)
        if merchant_id:
            bind_merchant_id(ops.w3, ops.manifest, ops.signer, account, merchant_id)

    _act(cli, address, admit)


@participant.command("roles")
@click.argument("address")
@click.option("--roles", type=Roles(), required=True, help="The full new set, comma-separated.")
@pass_cli
def participant_roles(cli: CliContext, address: str, roles: Role) -> None:
    """A registrar (signer) replaces a participant's roles."""
    _act(cli, address, lambda ops, account: registry.set_roles(ops.w3, ops.manifest, ops.signer, account, roles))


@participant.command("suspend")
@click.argument("address")
@click.option("--reason", required=True, help="Why, in at most 32 bytes (kept on chain).")
@pass_cli
def participant_suspend(cli: CliContext, address: str, reason: str) -> None:
    """A registrar (signer) stops a participant acting in every product until reinstated."""
    _act(cli, address, lambda ops, account: registry.suspend(ops.w3, ops.manifest, ops.signer, account, reason))


@participant.command("reinstate")
@click.argument("address")
@pass_cli
def participant_reinstate(cli: CliContext, address: str) -> None:
    """A registrar (signer) lifts a suspension."""
    _act(cli, address, lambda ops, account: registry.reinstate(ops.w3, ops.manifest, ops.signer, account))


@participant.command("list")
@pass_cli
def participant_list(cli: CliContext) -> None:
    """Everyone onboarded, with name, roles and whether suspended."""
    ops = OnChain(cli)
    everyone = registry.participants(ops.w3, ops.manifest)
    for p in everyone:
        print_participant(p)
    if not everyone:
        click.echo("No participants.")
