"""Compiled contracts, as ape writes them to ``.build/__local__.json``."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.core.config import Settings
from backend.core.errors import YinqiError


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # deployment (creation) bytecode, 0x-prefixed


def ensure_compiled(settings: Settings) -> None:
    """Run ``ape compile`` if the build output is missing or older than a contract source."""
    build = settings.build_file
    sources = [p for p in (settings.root / "contracts").rglob("*.sol") if ".cache" not in p.parts]
    if build.exists() and all(p.stat().st_mtime <= build.stat().st_mtime for p in sources):
        return
    ape = Path(sys.executable).with_name("ape")
    result = subprocess.run([str(ape), "compile"], cwd=settings.root, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not build.exists():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise YinqiError(f"`ape compile` failed:\n{tail}")


def load_artifacts(settings: Settings) -> dict[str, Artifact]:
    """Every compiled contract type by name."""
    try:
        manifest = json.loads(settings.build_file.read_text())
    except FileNotFoundError:
        raise YinqiError(f"no build output at {settings.build_file}: run `ape compile`") from None
    artifacts = {}
    for name, ct in manifest.get("contractTypes", {}).items():
        bytecode = (ct.get("deploymentBytecode") or {}).get("bytecode") or "0x"
        artifacts[name] = Artifact(name=name, abi=ct["abi"], bytecode=bytecode)
    return artifacts
