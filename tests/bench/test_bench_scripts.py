"""The benchmark scripts run end to end and write their figures (timings are not asserted here)."""

import json
from pathlib import Path

import pytest

from bench import gas


def test_gas_bench_measures_every_operation(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("bench._harness.RESULTS", tmp_path)
    gas.main()
    rows = {row["operation"]: row for row in json.loads((tmp_path / "gas.json").read_text())}
    assert rows["reference mint (new holder)"]["vs reference mint"] == 1.0
    assert {"issue (new holder)", "applyForFinancing (approved)", "split into 2", "markDefaulted"} <= rows.keys()
    assert all(row["gas"] > 21_000 for row in rows.values())
    assert "of target" in capsys.readouterr().out


def test_credit_gas_bench_reports_batches_against_the_floor(tmp_path, monkeypatch, capsys):
    from bench import credit_gas

    monkeypatch.setattr("bench._harness.RESULTS", tmp_path)
    credit_gas.main()
    rows = json.loads((tmp_path / "credit_gas.json").read_text())
    assert sorted({row["batch"] for row in rows}) == [1, 10, 100]
    existing = [row for row in rows if row["update of"] == "existing lines"]
    assert all(row["vs floor"] > 1 for row in existing)  # nothing beats the storage floor
    assert "of target" in capsys.readouterr().out


def test_credit_throughput_bench_scores_and_pushes(tmp_path, monkeypatch):
    from bench import credit_throughput

    monkeypatch.setattr("bench._harness.RESULTS", tmp_path)
    credit_throughput.main(["--merchants", "1500"])
    rows = json.loads((tmp_path / "credit_throughput.json").read_text())
    assert len(rows) == 5 and all(row["value"] > 0 for row in rows)
    assert rows[1]["reference"] > 0  # the article's RandomForest, measured in the same run
    co_signed = rows[4]  # 2-of-3 over mosquitto, next to the one-signer figure of the same run
    assert co_signed["reference"] == rows[3]["value"]
    assert sum(co_signed["shares"].values()) == pytest.approx(1, abs=0.01)  # every stage accounted for


def test_iot_ingest_bench_compares_with_a_raw_subscriber(tmp_path, monkeypatch):
    from bench import iot_ingest

    monkeypatch.setattr("bench._harness.RESULTS", tmp_path)
    iot_ingest.main(["--messages", "1500", "--devices", "10", "--samples", "2"])
    ingest, median, _, co_signed, _ = json.loads((tmp_path / "iot_ingest.json").read_text())
    assert ingest["value"] > 0 and ingest["reference"] > 0  # both measured in the same run
    assert median["value"] > 0 and median["reference"] > 0
    assert co_signed["value"] > 0 and co_signed["reference"] == median["value"]  # 2-of-3 next to one signer


def test_api_latency_bench_measures_each_endpoint_against_a_static_file(tmp_path, monkeypatch):
    from bench import api_latency

    monkeypatch.setattr("bench._harness.RESULTS", tmp_path)
    api_latency.main(["--clients", "10", "--requests", "50", "--receivables", "3"])
    rows = json.loads((tmp_path / "api_latency.json").read_text())
    assert next(row["endpoint"] for row in rows) == "static file (reference)" and len(rows) == 5
    assert all(row["p99 ms"] >= row["p50 ms"] > 0 for row in rows)


def test_all_gathers_every_figure_into_one_table(tmp_path, monkeypatch):
    from bench import all as everything

    monkeypatch.setattr("bench._harness.RESULTS", tmp_path)
    everything.app_to_cash()
    rows = everything.summary(tmp_path)
    assert [r["area"] for r in rows] == ["receivables"] and rows[0]["ratio"] > 0
    committed = everything.summary(Path(everything.__file__).parent / "results")
    assert {
        "gas: receivables",
        "gas: credit update",
        "gas: leases",
        "credit",
        "IoT",
        "API (100 clients)",
        "receivables",
    } <= {r["area"] for r in committed}


def test_lease_gas_bench_reports_operations_and_batches(tmp_path, monkeypatch):
    from bench import lease_gas

    monkeypatch.setattr("bench._harness.RESULTS", tmp_path)
    lease_gas.main()
    rows = {row["operation"]: row for row in json.loads((tmp_path / "lease_gas.json").read_text())}
    assert rows["reference ERC-721 mint"]["vs reference mint"] == 1.0
    offers = ("offer (3 tiers), a new schedule", "offer (3 tiers), a schedule in use")
    assert {*offers, "accept (pays the deposit)", "bill one period", "pay a period's rent"} <= rows.keys()
    assert rows[offers[1]]["gas"] < rows[offers[0]]["gas"]  # the schedule in use is not stored again
    batch = rows["usage report, usage again, batch of 100"]
    assert batch["vs floor"] > 1 and batch["per lease"] < rows["usage report, usage again, batch of 1"]["per lease"]
