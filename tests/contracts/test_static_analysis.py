"""Slither over the contracts, offline (through the solc-js shim): every High or Medium finding on our
code is explained in contracts/slither-triage.toml, and every explanation still matches a finding."""

import inspect
import os
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOLC = Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx")) / "solc-v0.8.37"


def findings() -> dict[str, str]:
    from crytic_compile import CryticCompile
    from crytic_compile.platform.solc_standard_json import SolcStandardJson
    from slither import Slither
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    standard_json = SolcStandardJson()
    contracts = ROOT / "contracts"
    for path in sorted(contracts.rglob("*.sol")):
        parts = path.relative_to(contracts).parts
        if parts[0] != "bench" and not any(part.startswith(".") for part in parts):  # not ape's dependency cache
            standard_json.add_source_file(str(path))
    standard_json.add_remapping(f"@openzeppelin/contracts/={ROOT}/node_modules/@openzeppelin/contracts/")
    compiled = CryticCompile(
        standard_json,
        solc=str(SOLC),
        solc_working_dir=str(ROOT),
        solc_args="--optimize --optimize-runs 200 --evm-version cancun",
    )  # as ape-config.yaml
    slither = Slither(compiled)
    for _, detector in inspect.getmembers(all_detectors, inspect.isclass):
        if issubclass(detector, AbstractDetector):
            slither.register_detector(detector)
    found = {}
    for result in (r for group in slither.run_detectors() for r in group):
        ours = "node_modules/" not in result["description"] and "contracts/." not in result["description"]
        if result["impact"] in ("High", "Medium") and ours:
            found[f"{result['check']}: {result['description'].split(' (')[0]}"] = result["description"]
    return found


def test_every_high_or_medium_finding_is_explained():
    pytest.importorskip("slither")
    found = findings()
    triage = tomllib.loads((ROOT / "contracts" / "slither-triage.toml").read_text())["finding"]
    explained = {f"{t['check']}: {t['where']}" for t in triage if t["why"].strip()}
    unexplained = set(found) - explained
    assert not unexplained, "\n\n".join(found[k] for k in sorted(unexplained))
    assert not explained - set(found), f"stale triage entries: {sorted(explained - set(found))}"
