"""Imports point one way: entry points (CLI, demo) → API, index, services, oracles → core → chain.
The core imports nothing of ours outside itself; a daemon never goes through the web layer, the
read side never through the write-side services; and no import of ours hides inside a function."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package → the first-party packages it may import (itself always)
ALLOWED = {
    "backend": set(),  # the namespace package itself
    "backend.core": set(),
    "backend.local": {"backend.core"},
    "backend.services": {"backend.core"},
    "backend.index": {"backend.core"},
    "backend.api": {"backend.core", "backend.index", "backend.services"},
    "oracles": {"backend.core"},
    "backend.cli": {"backend", "oracles"},
    "backend.demo": {"backend", "oracles"},
}
# function-level imports of our own modules that are there on purpose, with the reason
DELIBERATE = {
    ("backend.core.facts", "backend.core"): "the generator (enums) must run when the generated module is stale",
}


def modules():
    for base in ("backend", "oracles"):
        for path in sorted((ROOT / base).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            yield name, path


def package_of(module: str) -> str:
    return next(p for p in sorted(ALLOWED, key=len, reverse=True) if module == p or module.startswith(p + "."))


def first_party_imports(path: Path):
    """(imported module, at module level?) for every import of backend.* or oracles.*."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("backend", "oracles"):
                yield name, id(node) in top


@pytest.mark.parametrize("module,path", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_point_one_way(module, path):
    package = package_of(module)
    allowed = ALLOWED[package] | {package}
    for imported, _ in first_party_imports(path):
        if imported in ("backend", "oracles"):
            continue
        ok = any(imported == a or imported.startswith(a + ".") for a in allowed)
        assert ok, f"{module} imports {imported}: {package} may import only {sorted(allowed)}"


@pytest.mark.parametrize("module,path", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_import_of_ours_hides_in_a_function(module, path):
    hidden = [name for name, at_top in first_party_imports(path) if not at_top and (module, name) not in DELIBERATE]
    assert not hidden, f"{module} imports {hidden} inside a function"
