"""Typed settings of the API process."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from backend.core.config import Settings


@dataclass(frozen=True)
class ApiConfig:
    settings: Settings = field(default_factory=Settings.from_env)
    index: str | None = None  # a SQLite file or a postgresql:// URL; default $YINQI_HOME/index.sqlite
    follow: bool = True  # run the index follower in a background thread
    follow_interval: float = 1.0  # seconds between index syncs
    credit_reasons: Path | None = None  # the credit oracle's reasons file; default $YINQI_HOME/credit/reasons.json
    csv_limit: int = 100_000  # rows an audit CSV export may hold

    @property
    def index_target(self) -> str:
        return self.index or str(self.settings.home / "index.sqlite")

    @property
    def reasons_file(self) -> Path:
        return self.credit_reasons or self.settings.home / "credit" / "reasons.json"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ApiConfig:
        """Settings from the environment, plus ``YINQI_INDEX`` (a SQLite file or a ``postgresql://`` URL)
        and ``YINQI_CREDIT_REASONS``."""
        env = os.environ if environ is None else environ
        return cls(
            settings=Settings.from_env(env),
            index=env.get("YINQI_INDEX") or None,
            credit_reasons=Path(env["YINQI_CREDIT_REASONS"]) if env.get("YINQI_CREDIT_REASONS") else None,
        )
