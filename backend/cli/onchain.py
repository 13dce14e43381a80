"""What the `yinqi` commands that act on the deployed contracts share: `--network` and `--signer`,
the chain and the manifest they resolve to, and parameter types for amounts, rates and durations.

The parameter types raise :class:`ConfigError`, not click's BadParameter, so a mistake is the CLI's
usual one `error:` line; they are named "text" so the help shows the options plainly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.cli.common import CliContext
from backend.core.accounts import signer_from_spec
from backend.core.chain import connect
from backend.core.errors import ConfigError, YinqiError
from backend.core.manifest import Manifest
from backend.core.money import parse_amount
from backend.core.network import rpc_url_for


class Amount(click.ParamType):
    """An amount in DCNY as people write it (``500000``, ``1,250.50``), as integer token units;
    ``zero_ok`` lets ``0`` through (a deposit, a minimum rent)."""

    name = "text"

    def __init__(self, zero_ok: bool = False) -> None:
        self.zero_ok = zero_ok

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        if self.zero_ok and str(value).strip() in ("0", "0.0", "0.00"):
            return 0
        return parse_amount(value)


class Percent(click.ParamType):
    """A rate as a percentage (``5.5`` or ``5.5%``), as basis points (550); at most two decimals."""

    name = "text"

    def __init__(self, low: int = 0, high: int = 10_000) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().removesuffix("%").strip()
        try:
            bps = Decimal(text) * 100
        except InvalidOperation:
            raise ConfigError(f"not a percentage: {value!r} (write 5.5 or 5.5%)") from None
        if not bps.is_finite() or bps != bps.to_integral_value():
            raise ConfigError(f"a percentage takes at most two decimals: {value!r}")
        if not self.low <= bps <= self.high:
            raise ConfigError(f"{value!r} is out of range: {self.low / 100:g}% to {self.high / 100:g}%")
        return int(bps)


_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


class Duration(click.ParamType):
    """``90s``, ``30m``, ``12h`` or ``7d``, as seconds."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = _DURATION.match(str(value).strip())
        if not match:
            raise ConfigError(f"a duration is a whole number with s, m, h or d (e.g. 1d), got {value!r}")
        return int(match[1]) * _UNIT_SECONDS[match[2]]


def when(timestamp: int) -> str:
    """A chain timestamp as people read it."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def checksum(address: str) -> str:
    """An address as given on the command line, checked."""
    if not Web3.is_address(address):
        raise ConfigError(f"not an address: {address!r}")
    return Web3.to_checksum_address(address)


class OnChain:
    """The chain a command acts on (``--network``), its deployment, and the signer (``--signer``),
    resolved only when the command signs something."""

    def __init__(self, cli: CliContext) -> None:
        self.settings = cli.settings
        self.w3 = connect(rpc_url_for(cli.network, cli.settings), cli.settings.rpc_timeout)
        self.manifest = Manifest.for_chain(cli.settings, self.w3)
        self._signer_spec = cli.signer

    @cached_property
    def signer(self) -> LocalAccount:
        if not self._signer_spec:
            raise YinqiError("this command signs a transaction: pass --signer dev:N, env:NAME or keystore:PATH")
        return signer_from_spec(self._signer_spec, self.w3.eth.chain_id)

    def contract(self, name: str):
        return self.manifest.contract(self.w3, name)


def chain_group(summary: str):
    """A click group whose commands act on the deployed contracts: ``--network`` and ``--signer``
    before the command, kept in the :class:`CliContext`."""

    def decorate(fn):
        @click.group(help=summary)
        @click.option("--network", default=None, help="'local' (default) or an ape network choice.")
        @click.option("--signer", default=None, help="Who signs: dev:N (local chain), env:NAME or keystore:PATH.")
        @click.pass_context
        def group(ctx: click.Context, network: str | None, signer: str | None) -> None:
            ctx.obj = replace(ctx.find_object(CliContext), network=network, signer=signer)

        group.name = fn.__name__.replace("_", "-")
        return group

    return decorate
