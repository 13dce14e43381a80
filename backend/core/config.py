"""Typed settings for every backend process: defaults, overridden by ``YINQI_*`` variables."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from backend.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEV_CHAIN_ID = 31337
"""The local anvil chain. Only on this chain may the public dev accounts sign."""


@dataclass(frozen=True)
class Settings:
    root: Path = PROJECT_ROOT
    home: Path = PROJECT_ROOT / ".yinqi"  # runtime state: chain state file, logs
    deployments_dir: Path = PROJECT_ROOT / "deployments"
    rpc_url: str = "http://127.0.0.1:8545"
    chain_host: str = "127.0.0.1"
    chain_port: int = 8545
    chain_id: int = DEV_CHAIN_ID
    admin_transfer_delay: int = 2 * 24 * 3600  # seconds before a new bank admin may accept
    grace_period: int = 15 * 24 * 3600  # seconds after maturity a receivable may still be repaid
    oracle_quorum: int = 1  # k: operator signatures an oracle report needs (k-of-n), per feed
    credit_oracle_quorum: int | None = None  # the credit feed's own k (None: oracle_quorum)
    iot_oracle_quorum: int | None = None  # the IoT feed's own k (None: oracle_quorum)
    credit_max_rate_bps: int = 3_650  # the highest annual rate a credit report may set (36.5 %)
    credit_report_max_age: int = 24 * 3600  # seconds a credit report's as-of time may be old
    iot_report_max_age: int = 3600  # seconds an IoT report's as-of time may be old
    rpc_timeout: float = 10.0
    mqtt_port: int = 1884  # the demo's own broker (1883 is often taken by the machine's)
    api_port: int = 8000  # the demo's API and web UI
    anvil: Path | None = None  # an anvil binary to use instead of the npm one

    @property
    def build_file(self) -> Path:
        return self.root / ".build" / "__local__.json"

    @property
    def anvil_bin(self) -> Path:
        """The anvil binary itself, not npm's node wrapper: a signal or death of ours must reach
        the node directly, or a killed wrapper would leave anvil running."""
        if self.anvil is not None:
            return self.anvil
        arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
        system = platform.system().lower()
        return self.root / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"

    @property
    def chain_state_file(self) -> Path:
        return self.home / "anvil-state.json"

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        """Defaults, overridden by ``YINQI_HOME``, ``YINQI_DEPLOYMENTS``, ``YINQI_RPC_URL``,
        ``YINQI_CHAIN_HOST``, ``YINQI_CHAIN_PORT``, ``YINQI_ADMIN_TRANSFER_DELAY``, ``YINQI_GRACE_PERIOD``,
        ``YINQI_ORACLE_QUORUM`` (each feed's, unless ``YINQI_CREDIT_ORACLE_QUORUM`` or
        ``YINQI_IOT_ORACLE_QUORUM`` sets its own), ``YINQI_CREDIT_MAX_RATE_BPS``, ``YINQI_MQTT_PORT``,
        ``YINQI_API_PORT``, ``YINQI_ANVIL``, ``YINQI_CHAIN_ID`` (the chain every process pins: manifests, signatures and
        transactions are for it alone, whatever a node answers)."""
        env = os.environ if environ is None else environ
        base = cls()
        host = env.get("YINQI_CHAIN_HOST", base.chain_host)
        port = _int(env, "YINQI_CHAIN_PORT", base.chain_port)
        return cls(
            home=Path(env.get("YINQI_HOME", base.home)),
            deployments_dir=Path(env.get("YINQI_DEPLOYMENTS", base.deployments_dir)),
            rpc_url=env.get("YINQI_RPC_URL", f"http://{host}:{port}"),
            chain_host=host,
            chain_port=port,
            chain_id=_int(env, "YINQI_CHAIN_ID", base.chain_id),
            admin_transfer_delay=_int(env, "YINQI_ADMIN_TRANSFER_DELAY", base.admin_transfer_delay),
            grace_period=_int(env, "YINQI_GRACE_PERIOD", base.grace_period),
            oracle_quorum=_int(env, "YINQI_ORACLE_QUORUM", base.oracle_quorum),
            credit_oracle_quorum=_int(env, "YINQI_CREDIT_ORACLE_QUORUM", None),
            iot_oracle_quorum=_int(env, "YINQI_IOT_ORACLE_QUORUM", None),
            credit_max_rate_bps=_int(env, "YINQI_CREDIT_MAX_RATE_BPS", base.credit_max_rate_bps),
            mqtt_port=_int(env, "YINQI_MQTT_PORT", base.mqtt_port),
            api_port=_int(env, "YINQI_API_PORT", base.api_port),
            anvil=Path(env["YINQI_ANVIL"]) if env.get("YINQI_ANVIL") else None,
        )


def _int(env, name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
