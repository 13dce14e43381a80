"""``yinqi status``: what the demo on this home runs and how each part is doing — each service's
state and restarts, the chain's height, how far the API's index and each oracle's data lag behind."""

from __future__ import annotations

import json
import time
import urllib.request

import click
from prometheus_client.parser import text_string_to_metric_families

from backend.cli.common import CliContext, pass_cli
from backend.core.chain import connect
from backend.core.errors import YinqiError
from backend.demo.supervisor import STATUS_EVERY, status_path

_TIMEOUT = 2.0


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
        return response.read()


def _metric(text: str, suffix: str) -> float | None:
    """The first sample of a metric whose name ends in `suffix`, in Prometheus's text format."""
    for family in text_string_to_metric_families(text):
        if family.name.endswith(suffix) and family.samples:
            return family.samples[0].value
    return None


def _oracle_health(port: int) -> str:
    try:
        text = _get(f"http://127.0.0.1:{port}/metrics").decode()
    except OSError as exc:
        return f"metrics unreachable ({exc.__class__.__name__})"
    lag, pending = _metric(text, "_data_lag_seconds"), _metric(text, "_outbox_pending_reports")
    return ", ".join(
        part
        for part in (
            f"data lag {lag:.0f} s" if lag is not None else "",
            f"{pending:.0f} report(s) pending" if pending is not None else "",
        )
        if part
    )


@click.command("status")
@pass_cli
def status(cli: CliContext) -> None:
    """Each service of the demo running on this home: its state, restarts and lag; the chain's height."""
    path = status_path(cli.settings)
    if not path.exists():
        raise YinqiError(f"no demo is running on {cli.settings.home} (no {path.name}): start one with `yinqi demo`")
    doc = json.loads(path.read_text())
    age = time.time() - doc["written_at"]
    if age > 10 * STATUS_EVERY:
        raise YinqiError(f"the demo's status is {age:.0f} s old: the demo (pid {doc['pid']}) is not running")
    try:
        height = connect(doc["rpc_url"], _TIMEOUT).eth.block_number
        click.echo(f"chain      up          block {height:,} at {doc['rpc_url']}")
    except (OSError, ValueError, YinqiError) as exc:  # a node not there, or not answering as one
        height = None
        click.echo(f"chain      DOWN        {doc['rpc_url']} ({exc.__class__.__name__})")
    for s in doc["services"]:
        if s["state"] != "running":
            state = f"RESTARTING in {s['restart_in']} s"
        else:
            state = f"up {s['up_seconds']} s, pid {s['pid']}"
        detail = []
        if s["restarts"]:
            detail.append(f"{s['restarts']} restart(s)")
        if s["metrics_port"] and s["state"] == "running":
            detail.append(_oracle_health(s["metrics_port"]))
        if s["name"] == "api" and s["state"] == "running":
            try:
                health = json.loads(_get(f"{doc['api_url']}/api/health"))
                detail.append(f"index {health['latest_block'] - health['indexed_block']} block(s) behind")
            except (OSError, ValueError, KeyError) as exc:
                detail.append(f"health unreachable ({exc.__class__.__name__})")
        click.echo(f"{s['name']:<16} {state:<28} {'; '.join(d for d in detail if d)}".rstrip())
    if height is None:
        raise YinqiError("the chain is not answering")
