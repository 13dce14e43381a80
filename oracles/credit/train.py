"""Training a credit model on any tabular CSV a bank brings, with the article's RandomForest as the
baseline on the same split.

Split: stratified and seeded, 80 % for training and 20 % held out for the reported metrics; 20 % of
the training part is the validation set for early stopping and for calibration (Platt scaling of
xgboost's margin). Metrics on the held-out part: AUC, KS, Brier score of the calibrated probability,
and the baseline's AUC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from oracles.credit.features import ID_COLUMN, is_merchant_history, merchant_features, model_frame
from oracles.credit.model import CARD_FILE, FEATURES_FILE, MODEL_FILE, calibrated, sha256_bytes
from oracles.errors import DataError

IDENTIFIER_SHARE = 0.5  # a text column with more distinct values than this share of rows is an id
PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "tree_method": "hist",
    "max_depth": 3,
    "eta": 0.03,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 5,
    "max_cat_to_onehot": 8,
    "nthread": 2,
}
MAX_ROUNDS = 1500
EARLY_STOPPING = 80


@dataclass
class TrainingData:
    frame: pd.DataFrame  # model features only, typed
    y: np.ndarray  # 1 = default (the positive class)
    features: list[str]
    categories: dict[str, list[str]]
    target: str
    positive: str
    data_sha256: str
    dropped: list[str] = field(default_factory=list)


def load(path: str | Path, target: str, positive: str | None = None, drop: tuple[str, ...] = ()) -> TrainingData:
    """Read and check a CSV; :class:`DataError` with a one-line reason if it cannot be trained on."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        frame = pd.read_csv(path, low_memory=False)
    except FileNotFoundError:
        raise DataError(f"no such file: {path}") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable CSV ({str(exc).splitlines()[0]})") from None
    if frame.empty:
        raise DataError(f"{path} has no rows")
    if target not in frame.columns:
        raise DataError(f"target column {target!r} is not in {path} (columns: {', '.join(map(str, frame.columns))})")
    if is_merchant_history(frame):
        frame = merchant_features(frame, target)
    frame = frame[frame[target].notna()]
    y, positive_label = _labels(frame[target], target, positive)

    dropped = [c for c in drop if c in frame.columns]
    candidates = [c for c in frame.columns if c != target and c not in dropped and c != ID_COLUMN]
    features, categories = [], {}
    for name in candidates:
        column = frame[name]
        numeric = pd.to_numeric(column, errors="coerce")
        if numeric.notna().sum() == column.notna().sum() and column.notna().any():
            features.append(name)
        elif column.astype("string").nunique() > IDENTIFIER_SHARE * len(frame):
            dropped.append(name)  # identifier-like text: no signal, only leakage
        else:
            features.append(name)
            categories[name] = sorted(column.dropna().astype("string").unique().tolist())
    if not features:
        raise DataError(f"{path} has no usable feature columns besides {target!r}")
    return TrainingData(
        frame=model_frame(frame, features, categories),
        y=y,
        features=features,
        categories=categories,
        target=target,
        positive=positive_label,
        data_sha256=hashlib.sha256(raw).hexdigest(),
        dropped=dropped,
    )


def _labels(column: pd.Series, target: str, positive: str | None) -> tuple[np.ndarray, str]:
    values = column.astype("string").str.strip()
    labels = sorted(values.unique().tolist())
    if len(labels) != 2:
        raise DataError(f"target {target!r} must have exactly two classes, found {len(labels)}: {labels[:5]}")
    if positive is None:
        for candidate in ("1", "1.0", "true", "True", "yes", "default"):
            if candidate in labels:
                positive = candidate
                break
        else:
            raise DataError(f"target {target!r} has labels {labels}: pass --positive LABEL for the default class")
    if positive not in labels:
        raise DataError(f"--positive {positive!r} is not a label of {target!r} ({labels})")
    return (values == positive).to_numpy(dtype=np.int8), positive


@dataclass
class TrainResult:
    booster: xgb.Booster
    calibration: tuple[float, float]
    metrics: dict
    data: TrainingData


def train(data: TrainingData, seed: int = 42, progress: bool = True) -> TrainResult:
    counts = np.bincount(data.y, minlength=2)
    if counts.min() < 10:
        raise DataError(f"too few cases of one class to train and test ({counts[1]} defaults, {counts[0]} not)")
    index = np.arange(len(data.y))
    train_idx, test_idx = train_test_split(index, test_size=0.2, stratify=data.y, random_state=seed)
    fit_idx, valid_idx = train_test_split(train_idx, test_size=0.2, stratify=data.y[train_idx], random_state=seed)
    X, y = data.frame, data.y

    def matrix(idx):
        return xgb.DMatrix(X.iloc[idx], label=y[idx], enable_categorical=True)

    dfit, dvalid, dtest = matrix(fit_idx), matrix(valid_idx), matrix(test_idx)
    bar = tqdm(total=MAX_ROUNDS, desc="boosting", unit="round", file=sys.stderr, disable=not progress)
    booster = xgb.train(
        {**PARAMS, "seed": seed},
        dfit,
        num_boost_round=MAX_ROUNDS,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=EARLY_STOPPING,
        verbose_eval=False,
        callbacks=[_Progress(bar)],
    )
    bar.close()
    rounds = booster.best_iteration + 1
    booster = booster[:rounds]  # keep the trees up to the best validation round

    platt = LogisticRegression(C=1e6).fit(booster.predict(dvalid, output_margin=True).reshape(-1, 1), y[valid_idx])
    calibration = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
    p_test = calibrated(booster.predict(dtest, output_margin=True), calibration)
    fpr, tpr, _ = roc_curve(y[test_idx], p_test)

    baseline = _baseline_auc(X, y, train_idx, test_idx, data.categories, seed)
    metrics = {
        "auc": round(float(roc_auc_score(y[test_idx], p_test)), 4),
        "ks": round(float(np.max(tpr - fpr)), 4),
        "brier": round(float(brier_score_loss(y[test_idx], p_test)), 4),
        "baseline_auc": round(baseline, 4),
        "n_train": len(train_idx),
        "n_test": len(test_idx),
        "default_rate": round(float(y.mean()), 4),
        "rounds": int(rounds),
    }
    return TrainResult(booster, calibration, metrics, data)


class _Progress(xgb.callback.TrainingCallback):
    def __init__(self, bar: tqdm) -> None:
        self.bar = bar

    def after_iteration(self, model, epoch, evals_log) -> bool:
        self.bar.update(1)
        return False


def _baseline_auc(X, y, train_idx, test_idx, categories, seed) -> float:
    """The article's model as it wrote it: RandomForest(n_estimators=100, random_state=42) on the
    same split, missing values filled with 0 (its `fillna(0)`), text categories as their codes."""
    encoded = X.copy()
    for name in categories:
        encoded[name] = encoded[name].cat.codes
    encoded = encoded.fillna(0)
    forest = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=2)
    forest.fit(encoded.iloc[train_idx], y[train_idx])
    return float(roc_auc_score(y[test_idx], forest.predict_proba(encoded.iloc[test_idx])[:, 1]))


def save(result: TrainResult, out: str | Path) -> dict:
    """Write the model directory; the summary (metrics and the model's SHA-256)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    raw = bytes(result.booster.save_raw(raw_format="json"))
    (out / MODEL_FILE).write_bytes(raw)
    data = result.data
    (out / FEATURES_FILE).write_text(json.dumps({"features": data.features, "categories": data.categories}, indent=2))
    summary = {**result.metrics, "model_sha256": sha256_bytes(raw)}
    card = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_sha256": data.data_sha256,
        "target": data.target,
        "positive_label": data.positive,
        "features": data.features,
        "dropped_columns": data.dropped,
        "metrics": summary,
        "calibration": list(result.calibration),
        "xgboost": xgb.__version__,
        "params": PARAMS,
    }
    (out / CARD_FILE).write_text(json.dumps(card, indent=2))
    return summary
