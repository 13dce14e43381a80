"""Amounts as people write them ("1,250.50" DCNY) and as the chain keeps them (integer units)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from backend.core.enums import SETTLEMENT_DECIMALS as DECIMALS  # an external token must have the same
from backend.core.errors import ConfigError

UNIT = 10**DECIMALS


def parse_amount(text: str | int | Decimal) -> int:
    """``"1,250.5"`` → 1_250_500_000 units. Refuses negatives, non-numbers and sub-unit precision."""
    try:
        value = Decimal(str(text).replace(",", "").strip())
    except InvalidOperation:
        raise ConfigError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"amount must be positive: {text!r}")
    units = value * UNIT
    if units != units.to_integral_value():
        raise ConfigError(f"amount {text!r} has more than {DECIMALS} decimals")
    return int(units)


def format_amount(units: int) -> str:
    """1_250_500_000 units → ``"1,250.50"`` (at least two decimals, more when needed)."""
    whole, frac = divmod(units, UNIT)
    digits = f"{frac:0{DECIMALS}d}".rstrip("0").ljust(2, "0")
    return f"{whole:,}.{digits}"
