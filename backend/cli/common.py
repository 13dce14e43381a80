"""What the `yinqi` commands share: the typed context object, stopping on signals, HOST:PORT."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any

import click

from backend.core.config import Settings

log = logging.getLogger("yinqi")


@dataclass(frozen=True)
class CliContext:
    """``ctx.obj`` of every command: the settings and, under ``yinqi receivable``, its chain and signer."""

    settings: Settings
    network: str | None = None  # 'local' (None) or an ape network choice
    signer: str | None = None  # dev:N, env:NAME or keystore:PATH; None until a command needs one


pass_cli = click.make_pass_decorator(CliContext)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: long-running commands wait on it, then clean up."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def broker_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` of an MQTT broker."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def cosign_options(round_seconds: float):
    """``--cosign-broker`` and ``--round-seconds``: co-sign each report with the feed's other operators
    (k-of-n) over their MQTT broker, each leading one slot in turn (the same length on every operator)."""

    def decorate(command):
        command = click.option(
            "--round-seconds",
            type=click.FloatRange(0.5),
            default=round_seconds,
            show_default=True,
            help="Co-signing slot: each operator leads one in turn.",
        )(command)
        return click.option(
            "--cosign-broker",
            default=None,
            metavar="HOST:PORT",
            help="The operators' MQTT broker: co-sign each report with the feed's other operators (k-of-n).",
        )(command)

    return decorate


def metrics_options(command):
    """``--metrics-port`` and ``--metrics-host``: where a daemon serves its Prometheus metrics."""
    command = click.option(
        "--metrics-host",
        default="127.0.0.1",
        show_default=True,
        help="Address to serve /metrics on (0.0.0.0 for a scraper on another host).",
    )(command)
    return click.option(
        "--metrics-port",
        type=click.IntRange(0, 65535),
        default=None,
        help="Serve Prometheus metrics (/metrics) on this port [not served].",
    )(command)
