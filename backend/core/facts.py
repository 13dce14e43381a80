"""The contracts' facts — enum names, role and risk-flag bits, the token's decimals — read from the
Solidity sources' AST, so that Python and the frontend never keep a copy by hand.

Two readers take them from here:

- Python: :mod:`backend.core.enums`, generated from these facts (``python -m backend.core.facts``
  writes it; ``--check`` fails when it has drifted from the contracts, and the suite runs that);
- the frontend: ``yinqi deploy`` puts the same facts into the deployment manifest (``facts``), which
  the API serves at ``/api/manifest``.

Only our own sources are parsed (solc's ``stopAfter: parsing``: no imports, about a second); a
constant is kept when its value is an integer expression of literals and other such constants.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from enum import IntFlag
from pathlib import Path
from typing import Any

from backend.core.errors import YinqiError

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "scripts" / "solc-shim.cjs"
ENUMS_MODULE = Path(__file__).with_name("enums.py")

# Which file-level constants become which Python flag type (prefix → class), and the one plain constant.
FLAG_PREFIXES = {"ROLE_": "Role", "FLAG_": "RiskFlag"}
PLAIN_CONSTANTS = ("SETTLEMENT_DECIMALS",)


def sources(root: Path = ROOT) -> list[Path]:
    """Our Solidity sources (not ape's dependency cache, not the bench-only reference)."""
    folder = root / "contracts"
    return sorted(p for p in folder.rglob("*.sol") if ".cache" not in p.parts and "bench" not in p.parts)


def parse(root: Path = ROOT) -> dict[str, Any]:
    """Each source's AST, by path relative to `root`."""
    request = {
        "language": "Solidity",
        "sources": {str(p.relative_to(root)): {"content": p.read_text()} for p in sources(root)},
        "settings": {"stopAfter": "parsing", "outputSelection": {"*": {"": ["ast"]}}},
    }
    try:
        command = ["node", str(SHIM), "--standard-json"]
        done = subprocess.run(command, input=json.dumps(request), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise YinqiError("node is not installed: the contracts' facts are read with solc-js") from None
    if done.returncode != 0:
        raise YinqiError(f"solc could not parse the contracts: {done.stderr.strip()[:300]}")
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise YinqiError("solc could not parse the contracts:\n" + "\n".join(errors))
    return {path: unit["ast"] for path, unit in output["sources"].items()}


def read_facts(root: Path = ROOT) -> dict[str, Any]:
    """``{"enums": {"IReceivables.ReceivableStatus": ["None", …]}, "constants": {"ROLE_BANK": 1, …}}``:
    every enum (by ``Contract.Enum``, or its name when declared at file level) and every integer
    constant (file-level by name, contract-level as ``Contract.NAME``)."""
    enums: dict[str, list[str]] = {}
    declarations: dict[str, dict] = {}
    for ast in parse(root).values():
        for node in ast["nodes"]:
            _collect(node, "", enums, declarations)
    constants = {}
    for name, node in declarations.items():
        value = _evaluate(node.get("value"), declarations, scope=name.rpartition(".")[0])
        if value is not None:
            constants[name] = value
    return {"enums": dict(sorted(enums.items())), "constants": dict(sorted(constants.items()))}


def _collect(node: dict, scope: str, enums: dict, declarations: dict) -> None:
    kind = node.get("nodeType")
    if kind == "EnumDefinition":
        enums[f"{scope}{node['name']}"] = [m["name"] for m in node["members"]]
    elif kind == "VariableDeclaration" and node.get("constant"):
        declarations[f"{scope}{node['name']}"] = node
    elif kind == "ContractDefinition":
        for child in node["nodes"]:
            _collect(child, f"{node['name']}.", enums, declarations)


_OPERATORS = {
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
    "|": lambda a, b: a | b,
    "&": lambda a, b: a & b,
    "^": lambda a, b: a ^ b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "**": lambda a, b: a**b,
}
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400, "weeks": 604_800}


def _evaluate(node: dict | None, declarations: dict[str, dict], scope: str) -> int | None:
    """The integer an AST expression stands for, or None when it is not a constant integer."""
    if node is None:
        return None
    kind = node.get("nodeType")
    if kind == "Literal" and node.get("kind") == "number":
        value = int(node["value"].replace("_", ""), 0)
        return value * _UNITS.get(node.get("subdenomination") or "seconds", 1)
    if kind == "TupleExpression" and len(node["components"]) == 1:
        return _evaluate(node["components"][0], declarations, scope)
    if kind == "BinaryOperation" and node["operator"] in _OPERATORS:
        left = _evaluate(node["leftExpression"], declarations, scope)
        right = _evaluate(node["rightExpression"], declarations, scope)
        return None if left is None or right is None else _OPERATORS[node["operator"]](left, right)
    if kind == "Identifier":
        name = node["name"]
        target = declarations.get(f"{scope}.{name}") if scope else None
        target = target or declarations.get(name)
        return _evaluate(target.get("value"), declarations, scope) if target else None
    return None


# --- the generated Python module ------------------------------------------------------------------


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def python_module(facts: dict[str, Any]) -> str:
    """The source of :mod:`backend.core.enums` for these facts."""
    lines = [
        '"""The contracts\' enums, role and risk-flag bits and the token\'s decimals, as Python types.',
        "",
        "GENERATED by ``python -m backend.core.facts`` from the Solidity sources' AST: do not edit.",
        "The suite fails when this file and the contracts disagree (tests/backend/test_facts.py).",
        "",
        'An enum member\'s ``label`` is its Solidity name (``ReceivableStatus.ACTIVE.label == "Active"``).',
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from enum import IntEnum, IntFlag",
        "",
        "",
        "class SolidityEnum(IntEnum):",
        '    """An enum of the contracts: the member\'s value is its uint8, ``label`` its Solidity name."""',
        "",
        "    label: str",
        "",
        "    def __new__(cls, value: int, label: str) -> SolidityEnum:",
        "        member = int.__new__(cls, value)",
        "        member._value_ = value",
        "        member.label = label",
        "        return member",
        "",
        "    @classmethod",
        "    def from_label(cls, label: str) -> SolidityEnum:",
        "        for member in cls:",
        "            if member.label == label:",
        "                return member",
        '        raise ValueError(f"{label!r} is not a {cls.__name__}")',
    ]
    seen: dict[str, str] = {}
    for qualified, members in facts["enums"].items():
        name = qualified.rpartition(".")[2]
        if name in seen:
            raise YinqiError(f"two enums are named {name}: {seen[name]} and {qualified}; rename one in Solidity")
        seen[name] = qualified
        lines += ["", "", f"class {name}(SolidityEnum):", f'    """``{qualified}``."""', ""]
        lines += [f'    {_upper_snake(m)} = {i}, "{m}"' for i, m in enumerate(members)]
    for prefix, cls in FLAG_PREFIXES.items():
        bits = {k: v for k, v in facts["constants"].items() if k.startswith(prefix) and v and v & (v - 1) == 0}
        if not bits:
            raise YinqiError(f"no single-bit {prefix}* constants in the contracts")
        lines += ["", "", f"class {cls}(IntFlag):", f'    """The ``{prefix}*`` bits."""', ""]
        lines += [f"    {k.removeprefix(prefix)} = {v}" for k, v in sorted(bits.items(), key=lambda kv: kv[1])]
    lines += ["", ""]
    for name in PLAIN_CONSTANTS:
        if name not in facts["constants"]:
            raise YinqiError(f"the contracts declare no constant {name}")
        lines.append(f"{name} = {facts['constants'][name]}")
    return "\n".join(lines) + "\n"


def manifest_facts() -> dict[str, Any]:
    """What the deployment manifest carries for the frontend, from :mod:`backend.core.enums`:
    ``{"enums": {"ReceivableStatus": ["None", "Active", …]}, "flags": {"Role": {"BANK": 1, …}},
    "constants": {"SETTLEMENT_DECIMALS": 6}}`` (an enum's list is indexed by its uint8)."""
    from backend.core import enums

    found = {"enums": {}, "flags": {}, "constants": {name: getattr(enums, name) for name in PLAIN_CONSTANTS}}
    for value in vars(enums).values():
        if isinstance(value, type) and issubclass(value, enums.SolidityEnum) and value is not enums.SolidityEnum:
            found["enums"][value.__name__] = [member.label for member in value]
        elif isinstance(value, type) and issubclass(value, IntFlag) and value.__module__ == enums.__name__:
            found["flags"][value.__name__] = {member.name: int(member) for member in value}
    return found


def main(argv: list[str]) -> int:
    """``python -m backend.core.facts [--check]``: write (or check) :mod:`backend.core.enums`."""
    wanted = python_module(read_facts())
    current = ENUMS_MODULE.read_text() if ENUMS_MODULE.exists() else ""
    if "--check" in argv:
        if current != wanted:
            print(f"{ENUMS_MODULE} is out of date: run python -m backend.core.facts", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        ENUMS_MODULE.write_text(wanted)
        print(f"wrote {ENUMS_MODULE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
