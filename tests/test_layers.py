"""The layers hold: engine/ never imports nodes/ (built-in nodes come through entry points like any plugin),
and nodes/ use only the engine's public API (emberflow.engine.api), so the engine's insides can change."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a module of ``emberflow.<package>``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.parent.relative_to(ROOT).as_posix().replace("/", ".")
    base = "emberflow." + package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base.split(".")
                parent = parent[: len(parent) - node.level + 1]
                module = ".".join(parent + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def violations(folder: str, allowed) -> list[str]:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, module in imports(path):
            if not allowed(module):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


def test_engine_never_imports_nodes():
    assert violations("engine", lambda m: not m.startswith("emberflow.nodes")) == []


def test_nodes_use_only_the_public_api():
    def allowed(module: str) -> bool:
        return not module.startswith("emberflow.engine") or module == "emberflow.engine.api"

    assert violations("nodes", allowed) == []


def test_the_check_sees_relative_imports(tmp_path):
    """The import reader resolves a relative import, so a violation written that way is caught too."""
    sample = ROOT / "engine" / "store.py"
    assert any(module == "emberflow.engine.errors" for _, module in imports(sample))
