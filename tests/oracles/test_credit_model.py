"""The credit model: synthetic data, training on any CSV, calibration, reasons, policy, the CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oracles.credit import train
from oracles.credit.features import merchant_features
from oracles.credit.model import CreditModel
from oracles.credit.policy import Policy
from oracles.credit.scoring import decide
from oracles.credit.synthetic import generate
from oracles.errors import DataError
from tests.conftest import assert_one_line_error

YINQI = str(Path(sys.executable).with_name("yinqi"))


@pytest.fixture(scope="module")
def merchants_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("credit") / "merchants.csv"
    generate(merchants=8_000, months=12, seed=42).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(merchants_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    result = train.train(train.load(merchants_csv, "default_flag"), progress=False)
    return train.save(result, out), out


def test_generator_is_seeded_and_in_the_articles_format():
    a, b = generate(50, 6, seed=1), generate(50, 6, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == [
        "merchant_id",
        "month",
        "transaction_amount",
        "transaction_count",
        "avg_rating",
        "inventory_turnover",
        "default_flag",
    ]
    assert not generate(50, 6, seed=2).equals(a)
    assert a.groupby("merchant_id")["default_flag"].nunique().max() == 1


def test_monthly_growth_is_the_articles_pct_change():
    history = pd.DataFrame(
        {
            "merchant_id": ["a", "a", "a", "b", "b"],
            "month": ["01", "02", "03", "01", "02"],
            "transaction_amount": [100.0, 110.0, 99.0, 50.0, 100.0],
            "transaction_count": [1, 1, 1, 1, 1],
            "avg_rating": [4.0] * 5,
            "inventory_turnover": [5.0] * 5,
            "default_flag": [0, 0, 0, 0, 1],
        }
    )
    features = merchant_features(history, "default_flag")
    assert features.loc["a", "growth_mean"] == pytest.approx((0.10 + -0.10) / 2)
    assert features.loc["b", "growth_mean"] == pytest.approx(1.0)
    assert list(features["default_flag"]) == [0, 1]


def test_xgboost_beats_the_articles_random_forest_on_the_same_split(trained):
    summary, _ = trained
    assert summary["auc"] >= summary["baseline_auc"] + 0.02, summary
    assert 0 < summary["brier"] < 0.15 and 0 < summary["ks"] < 1
    assert summary["n_train"] + summary["n_test"] == 8_000


def test_saved_model_reloads_with_its_hash_and_card(trained, merchants_csv):
    summary, out = trained
    model = CreditModel.load(out)
    assert model.sha256 == summary["model_sha256"]
    card = json.loads((out / "card.json").read_text())
    assert card["metrics"]["auc"] == summary["auc"] and card["target"] == "default_flag"
    assert len(card["data_sha256"]) == 64


def test_probabilities_are_calibrated(trained, merchants_csv):
    _, out = trained
    model = CreditModel.load(out)
    features = merchant_features(generate(4_000, 12, seed=7), "default_flag")
    p = model.probability(features)
    y = features["default_flag"].to_numpy()
    assert abs(p.mean() - y.mean()) < 0.02  # calibrated in the large
    top, bottom = p >= np.quantile(p, 0.8), p <= np.quantile(p, 0.2)
    assert y[top].mean() > 3 * y[bottom].mean()


def test_reasons_are_the_models_own_contributions(trained):
    _, out = trained
    model = CreditModel.load(out)
    features = merchant_features(generate(20, 12, seed=3))
    contributions = model.booster.predict(model._matrix(features), pred_contribs=True)
    np.testing.assert_allclose(contributions.sum(axis=1), model.margin(features), rtol=1e-4, atol=1e-4)
    reasons = model.reasons(features, top=3)
    for row, why in zip(contributions, reasons, strict=False):
        assert [r.contribution for r in why] == pytest.approx(sorted(row[:-1], reverse=True)[:3], abs=1e-6)


def test_policy_scores_monotonically_and_declines_below_cutoff():
    policy = Policy.load()
    scores = [policy.score(p) for p in np.linspace(0.001, 0.999, 200)]
    assert scores == sorted(scores, reverse=True)
    assert policy.score(1 / 21) == 600  # base odds 20:1 sit at the base score
    good = policy.decide(0.005, 80_000)
    assert (good.band, good.limit, good.declined) == ("A", 120_000.0, False)
    assert policy.decide(0.001, 10_000_000).limit == 500_000  # the bank's maximum
    bad = policy.decide(0.4, 80_000)
    assert bad.declined and bad.limit == 0 and bad.band is None


@pytest.mark.parametrize(
    ("text", "message"),
    [("not = [toml", "not valid TOML"), ("[score]\nbase_score = 600\n", "missing or misnames")],
)
def test_bad_policy_files_are_refused(tmp_path, text, message):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        Policy.load(path)


def test_decisions_for_merchants_carry_model_and_policy_hashes(trained):
    _, out = trained
    model, policy = CreditModel.load(out), Policy.load()
    decisions = decide(model, policy, generate(30, 12, seed=9))
    assert len(decisions) == 30
    assert all(d.model_sha256 == model.sha256 and d.policy_sha256 == policy.sha256 for d in decisions)
    assert any(not d.decision.declined for d in decisions)


def test_any_table_with_text_categories_missing_values_and_named_labels(tmp_path):
    rng = np.random.default_rng(0)
    n = 1_500
    region = rng.choice(["north", "south", "east", "west"], n)
    income = rng.lognormal(10, 0.5, n)
    risk = 1 / (1 + np.exp(-(-2 + (region == "south") * 1.5 - (np.log(income) - 10) * 1.2)))
    frame = pd.DataFrame(
        {
            "applicant": [f"A{i}" for i in range(n)],  # an identifier: must be dropped
            "region": region,
            "income": np.where(rng.random(n) < 0.1, np.nan, income),
            "years": rng.integers(0, 30, n).astype(float),
            "status": np.where(rng.random(n) < risk, "bad", "good"),
        }
    )
    frame.loc[rng.random(n) < 0.05, "region"] = None
    path = tmp_path / "bank.csv"
    frame.to_csv(path, index=False)
    data = train.load(path, "status", positive="bad")
    assert "applicant" in data.dropped and data.categories["region"] == ["east", "north", "south", "west"]
    result = train.train(data, progress=False)
    assert result.metrics["auc"] > 0.7
    train.save(result, tmp_path / "model")
    model = CreditModel.load(tmp_path / "model")
    unseen = pd.DataFrame({"region": ["mars", None], "income": [np.nan, 30_000.0], "years": [3.0, None]})
    assert ((model.probability(unseen) > 0) & (model.probability(unseen) < 1)).all()


def run_cli(*args):
    return subprocess.run([YINQI, "credit", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        ("a,b\n1,2\n3,4\n", ["--target", "default_flag"], "target column 'default_flag' is not in"),
        ("x,y\n1,0\n2,0\n3,0\n", ["--target", "y"], "exactly two classes, found 1"),
        ("", ["--target", "y"], "is not a readable CSV"),
        ("x,y\n", ["--target", "y"], "has no rows"),
        ("x,y\n1,a\n2,b\n", ["--target", "y"], "pass --positive LABEL"),
        ("x,y\n1,a\n2,b\n", ["--target", "y", "--positive", "c"], "--positive 'c' is not a label"),
        ("x,y\n" + "1,0\n" * 30 + "2,1\n" * 3, ["--target", "y"], "too few cases of one class"),
    ],
)
def test_bad_training_csvs_fail_in_one_line(tmp_path, content, args, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert_one_line_error(run_cli("train", "--data", str(path), *args, "--out", str(tmp_path / "m")), fragment)


def test_cli_trains_with_progress_and_ends_with_json(merchants_csv, tmp_path):
    out = run_cli("train", "--data", str(merchants_csv), "--target", "default_flag", "--out", str(tmp_path / "m"))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"auc", "ks", "brier", "baseline_auc", "n_train", "n_test", "model_sha256"} <= summary.keys()
    assert "boosting" in out.stderr  # the progress bar
    score = run_cli("score", "--model", str(tmp_path / "m"), "--data", str(merchants_csv), "--merchant", "M000001")
    assert score.returncode == 0, score.stderr
    assert "Merchant M000001: probability of default" in score.stdout and "What moved it most" in score.stdout
    assert_one_line_error(
        run_cli("score", "--model", str(tmp_path / "m"), "--data", str(merchants_csv), "--merchant", "nobody"),
        "merchant 'nobody' is not in",
    )
    assert_one_line_error(
        run_cli("score", "--model", str(tmp_path), "--data", str(merchants_csv), "--merchant", "M000001"),
        "is not a trained model directory",
    )
