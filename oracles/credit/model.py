"""A trained credit model on disk, and scoring with it: calibrated probability of default and the
factors that moved each decision (xgboost's per-feature contributions).

A model directory holds ``model.json`` (xgboost's own format), ``features.json`` (feature order and
the categories of text features) and ``card.json`` (data hash, metrics, calibration, date).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from oracles.credit.features import model_frame
from oracles.errors import DataError

MODEL_FILE, FEATURES_FILE, CARD_FILE = "model.json", "features.json", "card.json"


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float | str | None
    contribution: float  # in log-odds of default; positive raises the risk


@dataclass(frozen=True)
class CreditModel:
    booster: xgb.Booster
    features: list[str]
    categories: dict[str, list[str]]
    calibration: tuple[float, float]  # Platt scaling of the raw margin: p = σ(a·margin + b)
    sha256: str
    card: dict

    @classmethod
    def load(cls, directory: str | Path) -> CreditModel:
        directory = Path(directory)
        try:
            spec = json.loads((directory / FEATURES_FILE).read_text())
            card = json.loads((directory / CARD_FILE).read_text())
            raw = (directory / MODEL_FILE).read_bytes()
        except FileNotFoundError as exc:
            raise DataError(
                f"{directory} is not a trained model directory (missing {Path(exc.filename).name})"
            ) from None
        booster = xgb.Booster()
        booster.load_model(bytearray(raw))
        return cls(booster, spec["features"], spec["categories"], tuple(card["calibration"]), sha256_bytes(raw), card)

    def _matrix(self, frame: pd.DataFrame) -> xgb.DMatrix:
        return xgb.DMatrix(model_frame(frame, self.features, self.categories), enable_categorical=True)

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(self._matrix(frame), output_margin=True)

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of default, one per row."""
        return calibrated(self.margin(frame), self.calibration)

    def reasons(self, frame: pd.DataFrame, top: int = 3) -> list[list[Reason]]:
        """Per row, the `top` features that raised the risk most (or, if none did, lowered it least)."""
        contributions = self.booster.predict(self._matrix(frame), pred_contribs=True)[:, :-1]  # last: bias
        out = []
        for row, contrib in zip(frame.itertuples(index=False), contributions, strict=False):
            values = row._asdict()
            order = np.argsort(-contrib)[:top]
            out.append(
                [Reason(self.features[i], _plain(values.get(self.features[i])), float(contrib[i])) for i in order]
            )
        return out


def calibrated(margin: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    a, b = calibration
    return 1.0 / (1.0 + np.exp(-(a * margin + b)))


def sha256_bytes(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value
