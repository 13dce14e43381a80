"""What an operator watches of an oracle daemon, as Prometheus metrics (``prometheus_client``), served
on ``--metrics-port`` at ``/metrics``, as oracle node operators run theirs.

Each daemon has its own registry and prefix (``yinqi_credit_oracle_…``, ``yinqi_iot_oracle_…``):

- ``reports_sent_total`` / ``reports_confirmed_total``: reports handed to the gateway (each attempt)
  and reports the chain has applied; ``reports_dropped_total{reason}``: pending reports discarded
  (``expired``: their data grew too old for the gateway; ``refused``: the consumer refused their content).
- ``outbox_pending_reports``: reports signed and waiting to be settled (a growing value means the chain
  is not taking them).
- ``data_lag_seconds``: the chain's time minus the as-of time of the newest data the daemon has (a
  growing value means the data source or the devices went quiet).
- ``inputs_rejected_total{reason}``: consents, messages and report items refused, by reason.
- ``loop_errors_total{loop}``: loop iterations or cycles that raised (logged with their traceback; the
  daemon goes on).
- Co-signing (:mod:`oracles.cosign`): ``cosign_rounds_total{outcome}`` (rounds this operator led:
  ``agreed`` or ``no_quorum``); ``cosign_refusals_total{reason}`` (proposals it refused, and why);
  ``cosign_refusals_received_total{reason}`` (its proposals others refused);
  ``cosign_proposals_ignored_total{reason}`` (network messages dropped unanswered: a bad signature,
  not an operator, another feed, not the slot's leader, a stale sequence, …).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

log = logging.getLogger(__name__)


COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {  # attribute (and exposed name) → (help, labels)
    "reports_sent": ("Reports handed to the gateway, each attempt", ()),
    "reports_confirmed": ("Reports the chain applied", ()),
    "reports_dropped": ("Pending reports discarded, by reason", ("reason",)),
    "inputs_rejected": ("Inputs refused (consents, messages, report items), by reason", ("reason",)),
    "loop_errors": ("Loop iterations or cycles that raised, by loop", ("loop",)),
    "cosign_rounds": ("Co-signing rounds this operator led, by outcome", ("outcome",)),
    "cosign_refusals": ("Proposals this operator refused to sign, by reason", ("reason",)),
    "cosign_refusals_received": ("Refusals of this operator's proposals, by reason", ("reason",)),
    "cosign_proposals_ignored": ("Network messages ignored without an answer, by reason", ("reason",)),
}


class OracleMetrics:
    """One daemon's metrics, in a registry of its own (so tests and two daemons in one process never
    mix them)."""

    def __init__(self, daemon: str) -> None:
        self.registry = CollectorRegistry()
        self.prefix = prefix = f"yinqi_{daemon}"
        r = self.registry
        for attribute, (doc, labels) in COUNTERS.items():
            setattr(self, attribute, Counter(f"{prefix}_{attribute}", doc, list(labels), registry=r))
        self.outbox_pending = Gauge(f"{prefix}_outbox_pending_reports", "Reports signed, not yet settled", registry=r)
        self.data_lag = Gauge(
            f"{prefix}_data_lag_seconds", "The chain's time minus the as-of time of the newest data", registry=r
        )

    def rejected(self, by_reason: Mapping[str, int]) -> None:
        """Count refused inputs: `by_reason` maps a reason to how many were refused for it."""
        for reason, n in by_reason.items():
            if n:
                self.inputs_rejected.labels(reason=reason).inc(n)

    def value(self, name: str, **labels: str) -> float | None:
        """A sample's current value by its exposed name (``reports_sent_total``, …), for tests and logs."""
        return self.registry.get_sample_value(f"{self.prefix}_{name}", labels or None)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on `host`:`port` from a daemon thread (it ends with the process)."""
        start_http_server(port, addr=host, registry=self.registry)
        log.info("metrics on http://%s:%d/metrics", host, port)
