"""What every benchmark shares: a private anvil with everything deployed, and writing results."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from web3 import Web3

from backend.core.chain import connect
from backend.core.config import Settings
from backend.core.manifest import Manifest
from backend.local.node import LocalChain
from backend.local.process import free_port
from backend.services.deploy import deploy

RESULTS = Path(os.environ.get("YINQI_BENCH_RESULTS", Path(__file__).parent / "results"))


def env_for(settings: Settings) -> dict[str, str]:
    """The environment a `yinqi` subprocess needs to use `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YINQI_")}
    return env | {
        "YINQI_HOME": str(settings.home),
        "YINQI_DEPLOYMENTS": str(settings.deployments_dir),
        "YINQI_CHAIN_PORT": str(settings.chain_port),
    }


@contextmanager
def private_chain(environ: dict[str, str] | None = None, **overrides) -> Iterator[tuple[Settings, Web3, Manifest]]:
    """A fresh anvil on a free port with every contract deployed (`overrides` of the settings, `environ`
    for the deployment: a feed's operators, say); gone afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="yinqi-bench-") as tmp:
        settings = replace(
            Settings(),
            home=Path(tmp) / "home",
            deployments_dir=Path(tmp) / "deployments",
            rpc_url=f"http://127.0.0.1:{port}",
            chain_port=port,
            **overrides,
        )
        with LocalChain(settings):
            manifest = deploy(settings, environ=environ or {}).manifest
            yield settings, connect(settings.rpc_url), manifest


def write_results(name: str, rows: list[dict], columns: list[str]) -> Path:
    """Print `rows` as a table and write them as JSON to bench/results/<name>.json."""
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(_cell(row.get(c)).ljust(widths[c]) for c in columns))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(rows, indent=2) + "\n")
    return path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
