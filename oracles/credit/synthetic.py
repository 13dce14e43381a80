"""Synthetic merchant histories in the article's CSV format, for the demo and the tests.

Generating process (seeded, so the same arguments give the same file):

1. Each merchant has a hidden health ``h ~ N(0, 1)`` and a base monthly turnover
   ``B ~ LogNormal(ln 60,000, 0.8)`` (DCNY).
2. Monthly turnover follows ``B · exp(g·t + ε_t)`` with growth ``g = 0.01 + 0.015·h`` and
   volatility ``σ = 0.05 + 0.20·sigmoid(−1.5·h)`` (weaker merchants swing more).
3. ``transaction_count ~ Poisson(turnover / ticket)`` with a merchant ticket size
   ``~ LogNormal(ln 120, 0.3)``; ``avg_rating = clip(4.3 + 0.35·h + N(0, 0.15), 1, 5)``;
   ``inventory_turnover = clip(6 + 1.6·h + N(0, 0.8), 0.3, 20)``.
4. Default within the next year is Bernoulli with logit
   ``−3.3 + 0.9·(4.3 − mean rating)/0.35 + 25·relu(−mean growth) − 10·mean growth
   + 6·(realised volatility − 0.12) + 0.8·[mean inventory turnover < 4]·[mean turnover < 40,000]
   − 0.7·ln(mean turnover / 60,000) − 0.15·(mean inventory turnover − 6)`` — a hinge, a threshold
   interaction and several additive effects — plus unobserved noise ``N(0, 1)``. The base rate comes
   out near 12 %.

Columns are the article's: ``merchant_id, month, transaction_amount, transaction_count, avg_rating,
inventory_turnover, default_flag`` (the flag is the merchant's outcome, repeated on its rows);
``monthly_growth`` is derived from them as the article does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "merchant_id",
    "month",
    "transaction_amount",
    "transaction_count",
    "avg_rating",
    "inventory_turnover",
    "default_flag",
]


def generate(merchants: int = 2_000, months: int = 12, seed: int = 42) -> pd.DataFrame:
    """Monthly rows for `merchants` merchants over `months` months."""
    if merchants < 1 or months < 2:
        raise ValueError("need at least 1 merchant and 2 months")
    rng = np.random.default_rng(seed)
    health = rng.normal(size=merchants)
    base = rng.lognormal(np.log(60_000), 0.8, size=merchants)
    growth = 0.01 + 0.015 * health + rng.normal(0, 0.005, merchants)
    volatility = 0.05 + 0.20 / (1 + np.exp(1.5 * health))
    ticket = rng.lognormal(np.log(120), 0.3, size=merchants)

    t = np.arange(months)
    shocks = rng.normal(size=(merchants, months)) * volatility[:, None]
    amount = base[:, None] * np.exp(growth[:, None] * t[None, :] + shocks)
    count = rng.poisson(amount / ticket[:, None])
    rating = np.clip(4.3 + 0.35 * health[:, None] + rng.normal(0, 0.15, (merchants, months)), 1, 5)
    inventory = np.clip(6 + 1.6 * health[:, None] + rng.normal(0, 0.8, (merchants, months)), 0.3, 20)

    mean_amount = amount.mean(axis=1)
    mean_growth = (np.diff(amount, axis=1) / amount[:, :-1]).mean(axis=1)
    realised_vol = np.diff(np.log(amount), axis=1).std(axis=1)
    logit = (
        -3.3
        + 0.9 * (4.3 - rating.mean(axis=1)) / 0.35
        + 25 * np.maximum(0, -mean_growth)
        - 10 * mean_growth
        + 6.0 * (realised_vol - 0.12)
        + 0.8 * ((inventory.mean(axis=1) < 4) & (mean_amount < 40_000))
        - 0.7 * np.log(mean_amount / 60_000)
        - 0.15 * (inventory.mean(axis=1) - 6)
        + rng.normal(0, 1.0, merchants)
    )
    default = rng.random(merchants) < 1 / (1 + np.exp(-logit))

    frame = pd.DataFrame(
        {
            "merchant_id": np.repeat([f"M{i:06d}" for i in range(merchants)], months),
            "month": np.tile([f"2026-{m + 1:02d}" if m < 12 else f"2027-{m - 11:02d}" for m in t], merchants),
            "transaction_amount": np.round(amount.ravel(), 2),
            "transaction_count": count.ravel(),
            "avg_rating": np.round(rating.ravel(), 2),
            "inventory_turnover": np.round(inventory.ravel(), 2),
            "default_flag": np.repeat(default.astype(int), months),
        }
    )
    return frame[COLUMNS]
