"""Every figure of the project in one table, by one command.

    python -m bench.all            # runs every benchmark (about 10 minutes on 2 cores), then the table
    python -m bench.all --quick    # smaller runs of the slow ones (a few minutes)
    python -m bench.all --table    # only the table, from the last results in bench/results/

Each figure sits next to the reference measured in the same run where one exists: gas against a bare
OpenZeppelin ERC-721 mint, the issue target and the storage floor (receivables, credit updates,
leases); scores against the article's
RandomForest; IoT ingest against a raw MQTT subscriber; anomaly latency and application-to-cash
against one plain transaction's round trip; API latency against a static file from the same server.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench import _harness


def app_to_cash() -> list[dict[str, Any]]:
    """Wall time from submitting an application for financing to its receipt, with the advance paid in
    that same transaction, next to one ERC-20 transfer's round trip on the same anvil."""
    from web3 import Web3

    from backend.core.chain import send
    from backend.demo.seeding import CORE, TIER1, TIER2, seed, seed_supply_chain
    from backend.services.receivables import ReceivablesService

    rows = []
    with _harness.private_chain() as (_, w3, manifest):
        seed(w3, manifest)
        seed_supply_chain(w3, manifest)
        service = ReceivablesService(w3, manifest)
        token = manifest.contract(w3, "SettlementToken")
        now = w3.eth.get_block("latest")["timestamp"]
        finance, transfer = [], []
        for i in range(10):
            rid = service.issue(
                CORE, TIER1.address, 10_000 * 10**6, now + 60 * 86_400, Web3.keccak(text=f"cash {i}"), f"CASH-{i}"
            )
            t0 = time.perf_counter()
            outcome = service.finance(TIER1, rid)
            finance.append(time.perf_counter() - t0)
            assert outcome.approved and outcome.advance > 0
            t0 = time.perf_counter()
            send(w3, TIER1, token.functions.transfer(TIER2.address, 1), decoder=manifest.revert_decoder())
            transfer.append(time.perf_counter() - t0)
        median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        rows.append(
            {
                "figure": "application → cash, ms (median of 10)",
                "value": round(median(finance) * 1000, 1),
                "reference": round(median(transfer) * 1000, 1),
                "ratio": round(median(finance) / median(transfer), 2),
                "reference is": "one ERC-20 transfer, same anvil",
                "blocks": 0,
            }
        )
    _harness.write_results("app_to_cash", rows, ["figure", "value", "reference", "ratio", "reference is", "blocks"])
    return rows


def run_all(quick: bool) -> None:
    from bench import api_latency, credit_gas, credit_throughput, gas, iot_ingest, lease_gas

    gas.main()
    credit_gas.main()
    lease_gas.main()
    credit_throughput.main(["--merchants", "5000" if quick else "100000"])
    iot_ingest.main(["--messages", "3000", "--devices", "20"] if quick else [])
    api_latency.main(["--requests", "500"] if quick else [])
    app_to_cash()


def summary(results=None) -> list[dict[str, Any]]:
    """One row per figure from the result files: area, figure, value, unit, reference, ratio."""
    results = results or _harness.RESULTS

    def load(name):
        return json.loads((results / f"{name}.json").read_text()) if (results / f"{name}.json").exists() else []

    rows: list[dict[str, Any]] = []
    for r in load("gas"):
        rows.append(
            {
                "area": "gas: receivables",
                "figure": r["operation"],
                "value": r["gas"],
                "unit": "gas",
                "reference": "bare ERC-721 mint",
                "ratio": r["vs reference mint"],
                "target": r.get("of target") and f"{r['of target']} of target",
            }
        )
    for r in load("credit_gas"):
        if "vs floor" in r:
            rows.append(
                {
                    "area": "gas: credit update",
                    "figure": f"per merchant, batch of {r['batch']}",
                    "value": r["per merchant"],
                    "unit": "gas",
                    "reference": "5,000 storage floor",
                    "ratio": r["vs floor"],
                    "target": f"{r['of target']} of target",
                }
            )
    for r in load("lease_gas"):
        per_lease = "per lease" in r
        rows.append(
            {
                "area": "gas: leases",
                "figure": r["operation"] + (" (per lease)" if per_lease else ""),
                "value": r["per lease"] if per_lease else r["gas"],
                "unit": "gas",
                "reference": "5,000 storage floor" if per_lease else "bare ERC-721 mint",
                "ratio": r["vs floor"] if per_lease else r["vs reference mint"],
            }
        )
    for r in load("credit_throughput"):
        rows.append(
            {
                "area": "credit",
                "figure": r["measure"],
                "value": r["value"],
                "unit": "",
                "reference": r["reference"]
                and ("one signer, same run" if "shares" in r else "the article's RandomForest"),
                "ratio": r["ratio"],
            }
        )
    for r in load("iot_ingest"):
        rows.append(
            {
                "area": "IoT",
                "figure": r["figure"],
                "value": r["value"],
                "unit": "",
                "reference": r["reference is"] if r["reference"] else None,
                "ratio": r["ratio"] and round(r["ratio"], 3),
                "target": r.get("target"),
            }
        )
    for r in load("api_latency"):
        rows.append(
            {
                "area": "API (100 clients)",
                "figure": f"{r['endpoint']} p50 / p99",
                "value": f"{r['p50 ms']} / {r['p99 ms']}",
                "unit": "ms",
                "reference": "static file, same server",
                "ratio": r["p50 vs static"],
            }
        )
    for r in load("app_to_cash"):
        rows.append(
            {
                "area": "receivables",
                "figure": r["figure"],
                "value": r["value"],
                "unit": "ms",
                "reference": r["reference is"],
                "ratio": r["ratio"],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs of the slow benchmarks")
    parser.add_argument("--table", action="store_true", help="only print the table from the last results")
    args = parser.parse_args(argv)
    if not args.table:
        run_all(args.quick)
    print()
    _harness.write_results("all", summary(), ["area", "figure", "value", "unit", "reference", "ratio", "target"])


if __name__ == "__main__":
    main()
