"""From what a bank hands over to what the model sees.

Two shapes of input are accepted:

- the article's merchant CSV — monthly rows per merchant (``merchant_id``, ``transaction_amount``,
  ``transaction_count``, ``avg_rating``, ``inventory_turnover``, optionally ``month`` and
  ``default_flag``). ``monthly_growth`` is derived per merchant with ``pct_change`` exactly as the
  article does, and each merchant becomes one row of features (one decision per merchant); its
  label is whether any of its rows is flagged;
- any other table: each row is one case, every column but the target a feature (numbers as numbers,
  text as categories, blanks as missing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEED_COLUMNS = ("merchant_id", "transaction_amount", "transaction_count", "avg_rating", "inventory_turnover")
ID_COLUMN = "merchant_id"


def is_merchant_history(frame: pd.DataFrame) -> bool:
    return all(c in frame.columns for c in SEED_COLUMNS)


def merchant_features(history: pd.DataFrame, target: str | None = None) -> pd.DataFrame:
    """One row per merchant (indexed by ``merchant_id``) from its monthly rows."""
    rows = history.sort_values([ID_COLUMN, "month"]) if "month" in history.columns else history
    rows = rows.copy()
    # The article's feature engineering, verbatim in meaning: month-on-month growth of turnover.
    rows["monthly_growth"] = rows.groupby(ID_COLUMN)["transaction_amount"].pct_change()
    groups = rows.groupby(ID_COLUMN, sort=True)
    recent = rows.groupby(ID_COLUMN, sort=True).tail(3).groupby(ID_COLUMN, sort=True)  # the last three months
    amount = groups["transaction_amount"]
    features = pd.DataFrame(
        {
            "amount_mean": amount.mean(),
            "amount_last3": recent["transaction_amount"].mean(),
            "amount_cv": amount.std() / amount.mean(),
            "count_mean": groups["transaction_count"].mean(),
            "ticket_mean": amount.sum() / groups["transaction_count"].sum().replace(0, np.nan),
            "rating_mean": groups["avg_rating"].mean(),
            "rating_min": groups["avg_rating"].min(),
            "turnover_mean": groups["inventory_turnover"].mean(),
            "growth_mean": groups["monthly_growth"].mean(),
            "growth_last3": recent["monthly_growth"].mean(),
            "growth_volatility": groups["monthly_growth"].std(),
            "months": groups.size(),
        }
    )
    if target is not None and target in rows.columns:
        features[target] = groups[target].max()
    return features


def model_frame(frame: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> pd.DataFrame:
    """`frame` with exactly `features` in order, text columns as the categories seen in training."""
    out = pd.DataFrame(index=frame.index)
    for name in features:
        column = frame[name] if name in frame.columns else pd.Series(np.nan, index=frame.index)
        if name in categories:
            out[name] = pd.Categorical(column.astype("string"), categories=categories[name])
        else:
            out[name] = pd.to_numeric(column, errors="coerce")
    return out
