"""Read latency of the API's main list and KPI endpoints at 100 concurrent clients (p50 / p99).

    python -m bench.api_latency [--clients 100] [--requests 2000] [--receivables 200]

A private anvil seeded like the demo plus `--receivables` more issued receivables, the real server
(`yinqi api`, hypercorn), `--clients` threads each with its own HTTP session. The reference, measured
in the same run under the same load, is the server answering a static file (no index, no chain).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from web3 import Web3

from backend.demo.seeding import CORE, TIER1, seed, seed_supply_chain
from backend.services.receivables import ReceivablesService
from bench._harness import env_for, free_port, private_chain, write_results

YINQI = str(Path(sys.executable).with_name("yinqi"))
ENDPOINTS = {
    "static file (reference)": "/css/app.css",
    "GET /api/receivables (page of 50)": "/api/receivables?page_size=50",
    "GET /api/kpis": "/api/kpis",
    "GET /api/alerts": "/api/alerts",
    "GET /api/audit/events (page of 50)": "/api/audit/events?page_size=50",
}


def _load(base: str, path: str, clients: int, total: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = max(1, total // clients)
    start = threading.Barrier(clients)

    def client() -> None:
        session = requests.Session()
        mine = []
        start.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            response = session.get(base + path, timeout=60)
            mine.append(time.perf_counter() - t0)
            response.raise_for_status()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=2_000, help="per endpoint, over all clients")
    parser.add_argument("--receivables", type=int, default=200)
    args = parser.parse_args(argv)
    rows = []
    with private_chain() as (settings, w3, manifest), tempfile.TemporaryDirectory() as tmp:
        seed(w3, manifest)
        seed_supply_chain(w3, manifest)
        service = ReceivablesService(w3, manifest)
        now = w3.eth.get_block("latest")["timestamp"]
        for i in range(args.receivables):
            service.issue(
                CORE,
                TIER1.address,
                (1_000 + i) * 10**6,
                now + 60 * 86_400,
                Web3.keccak(text=f"bench {i}"),
                f"BENCH-{i}",
            )
        port = free_port()
        log = open(Path(tmp) / "api.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            [YINQI, "api", "--port", str(port)], env=env_for(settings), stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/api/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            reference_p50 = None
            for name, path in ENDPOINTS.items():
                _load(base, path, min(args.clients, 10), 50)  # warm up
                latencies = _load(base, path, args.clients, args.requests)
                p50, p99 = _percentile(latencies, 50) * 1000, _percentile(latencies, 99) * 1000
                reference_p50 = reference_p50 or p50
                rows.append(
                    {
                        "endpoint": name,
                        "clients": args.clients,
                        "requests": len(latencies),
                        "p50 ms": round(p50, 1),
                        "p99 ms": round(p99, 1),
                        "p50 vs static": round(p50 / reference_p50, 2),
                    }
                )
        finally:
            server.terminate()
            server.wait(30)
            log.close()
    write_results("api_latency", rows, ["endpoint", "clients", "requests", "p50 ms", "p99 ms", "p50 vs static"])


if __name__ == "__main__":
    main()
