"""The bank's credit policy (a TOML file it edits): probability of default → score → limit."""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from oracles.errors import DataError

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")
ON_REVOKE = ("zero", "freeze")  # what becomes of a line whose merchant no longer consents (see policy.toml)


@dataclass(frozen=True)
class Band:
    name: str
    min_score: int
    multiple: float
    rate_bps: int


@dataclass(frozen=True)
class Decision:
    probability: float  # calibrated probability of default
    score: int
    band: str | None  # None when declined
    limit: float  # DCNY; 0 when declined
    rate_bps: int
    declined: bool


@dataclass(frozen=True)
class Policy:
    base_score: float
    base_odds: float
    pdo: float
    min_score: int
    max_score: int
    basis: str
    max_limit: float
    round_to: float
    cutoff: int
    bands: tuple[Band, ...]
    on_revoke: str  # one of ON_REVOKE
    sha256: str

    @classmethod
    def load(cls, path: str | Path = DEFAULT_POLICY) -> Policy:
        path = Path(path)
        try:
            raw = path.read_bytes()
            doc = tomllib.loads(raw.decode())
            score, limit = doc["score"], doc["limit"]
            bands = tuple(sorted((Band(**b) for b in doc["bands"]), key=lambda b: -b.min_score))
            policy = cls(
                base_score=score["base_score"],
                base_odds=score["base_odds"],
                pdo=score["pdo"],
                min_score=score["min"],
                max_score=score["max"],
                basis=limit["basis"],
                max_limit=limit["max_limit"],
                round_to=limit["round_to"],
                cutoff=limit["cutoff"],
                bands=bands,
                on_revoke=doc.get("consent", {}).get("on_revoke", "zero"),
                sha256=hashlib.sha256(raw).hexdigest(),
            )
        except FileNotFoundError:
            raise DataError(f"no policy file at {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"policy {path} is not valid TOML ({exc})") from None
        except (KeyError, TypeError) as exc:
            raise DataError(f"policy {path} is missing or misnames a setting ({exc})") from None
        if not bands or policy.pdo <= 0 or policy.base_odds <= 0 or policy.min_score >= policy.max_score:
            raise DataError(f"policy {path}: needs bands, pdo > 0, base_odds > 0 and min < max")
        if policy.on_revoke not in ON_REVOKE:
            raise DataError(f"policy {path}: consent.on_revoke is {policy.on_revoke!r}, not one of {ON_REVOKE}")
        return policy

    def score(self, probability: float) -> int:
        """Higher is safer. Monotone: a lower probability of default never scores lower."""
        p = min(max(probability, 1e-9), 1 - 1e-9)
        factor = self.pdo / math.log(2)
        offset = self.base_score - factor * math.log(self.base_odds)
        return int(min(self.max_score, max(self.min_score, round(offset + factor * math.log((1 - p) / p)))))

    def decide(self, probability: float, basis_value: float) -> Decision:
        score = self.score(probability)
        band = next((b for b in self.bands if score >= b.min_score), None)
        if score < self.cutoff or band is None or not basis_value or basis_value != basis_value or basis_value <= 0:
            return Decision(probability, score, None, 0.0, 0, True)
        limit = min(self.max_limit, band.multiple * basis_value)
        limit = math.floor(limit / self.round_to) * self.round_to
        return Decision(probability, score, band.name, float(limit), band.rate_bps, limit <= 0)
