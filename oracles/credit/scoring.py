"""One decision per merchant: features → calibrated probability → policy → score, limit, reasons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oracles.credit.features import is_merchant_history, merchant_features
from oracles.credit.model import CreditModel, Reason
from oracles.credit.policy import Decision, Policy
from oracles.errors import DataError


@dataclass(frozen=True)
class MerchantDecision:
    merchant_id: str
    decision: Decision
    reasons: list[Reason]
    model_sha256: str
    policy_sha256: str


def merchant_rows(path: str | Path, merchant_id: str) -> pd.DataFrame:
    """One merchant's monthly rows from a CSV of the article's shape (``merchant_id`` matched as text)."""
    try:
        history = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path} ({str(exc).splitlines()[0]})") from None
    rows = history[history.get("merchant_id", pd.Series(dtype=str)).astype(str) == merchant_id]
    if rows.empty:
        raise DataError(f"merchant {merchant_id!r} is not in {path}")
    return rows


def decide(model: CreditModel, policy: Policy, history: pd.DataFrame, top: int = 3) -> list[MerchantDecision]:
    """Decisions for every merchant in `history` (the article's monthly rows)."""
    if not is_merchant_history(history):
        raise DataError(
            "merchant data needs the columns merchant_id, transaction_amount, transaction_count, "
            "avg_rating, inventory_turnover"
        )
    features = merchant_features(history)
    probabilities = model.probability(features)
    reasons = model.reasons(features, top=top)
    return [
        MerchantDecision(
            merchant_id=str(merchant),
            decision=policy.decide(float(p), float(features.at[merchant, policy.basis])),
            reasons=why,
            model_sha256=model.sha256,
            policy_sha256=policy.sha256,
        )
        for merchant, p, why in zip(features.index, probabilities, reasons, strict=False)
    ]
