"""The layers of the code: imports point downwards only, and no module imports itself back.

Read the imports (at module level and inside functions: a lazy import is still
a dependency) of every module of ``govbot``, ``webhooks`` and ``bench`` with
``ast``, without running them, then check each against the table below and
look for cycles. The README's "How it is built" points here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

# room -> the rooms it may import from (itself always included)
ALLOWED: dict[str, set[str]] = {
    "govbot.core": set(),
    "govbot.repo": {"govbot.core"},
    "govbot.store": {"govbot.core"},
    "govbot.forges": {"govbot.repo", "govbot.core"},
    "govbot.web": {"govbot.repo", "govbot.core"},
    "govbot.service": {"govbot.forges", "govbot.store", "govbot.repo", "govbot.core"},
    "webhooks": {"govbot.web", "govbot.forges", "govbot.store", "govbot.repo", "govbot.core"},
    "govbot.cli": {
        "webhooks",
        "govbot.service",
        "govbot.web",
        "govbot.forges",
        "govbot.store",
        "govbot.repo",
        "govbot.core",
        "bench",
    },
    "bench": {
        "tests",
        "webhooks",
        "govbot.cli",
        "govbot.service",
        "govbot.web",
        "govbot.forges",
        "govbot.store",
        "govbot.repo",
        "govbot.core",
    },
}
ANYWHERE = {"govbot", "govbot.metrics"}  # __version__; in-memory instruments every layer counts in
THIRD_PARTY_IN_CORE = {"fastapi", "starlette", "sqlalchemy", "sqlmodel", "github", "gerritlib"}
THIRD_PARTY_IN_CORE |= {"prometheus_client", "jinja2"}
THIRD_PARTY_IN_CORE |= {
    "httpx",
    "requests",
    "uvicorn",
    "alembic",
    "psycopg",
    "subprocess",
    "socket",
}


def modules() -> Iterator[tuple[str, Path]]:
    for top in ("govbot", "webhooks", "bench"):
        for path in sorted((REPO / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, resolved to full dotted names."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def room(module: str) -> str | None:
    if module == "govbot.__main__":
        return "govbot.cli"
    for r in sorted(ALLOWED, key=len, reverse=True):
        if module == r or module.startswith(r + "."):
            return r
    return None


KNOWN = dict(modules())
GRAPH = {
    name: {i for i in imports(name, path) if i in KNOWN and i != name}
    for name, path in KNOWN.items()
}


def test_every_module_lives_in_a_room() -> None:
    homeless = [m for m in KNOWN if room(m) is None and m not in ANYWHERE]
    assert homeless == []


def upward(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for name, targets in graph.items():
        mine = room(name)
        for target in targets:
            theirs = room(target)
            if target in ANYWHERE or theirs is None or theirs == mine or mine is None:
                continue
            if theirs not in ALLOWED[mine]:
                found.append(f"{name} -> {target}")
    return sorted(found)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components: any with two modules or more is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, set()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_imports_point_downwards_only() -> None:
    assert upward(GRAPH) == []


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_the_core_does_no_io() -> None:
    """govbot.core imports no web framework, database, forge client or process/network module."""
    offending = []
    for name, path in KNOWN.items():
        if room(name) != "govbot.core":
            continue
        for i in imports(name, path):
            if i.split(".")[0] in THIRD_PARTY_IN_CORE:
                offending.append(f"{name} -> {i}")
    assert offending == []


def test_the_checks_catch_a_planted_cycle_and_upward_imports() -> None:
    """The two checks would catch what they claim, on a known-bad graph."""
    planted = {
        "govbot.cli.a": {"govbot.cli.b"},
        "govbot.cli.b": {"govbot.cli.c"},
        "govbot.cli.c": {"govbot.cli.a"},
        "govbot.store.inbox": {"govbot.service.worker"},
        "webhooks.app": {"govbot.service.context", "govbot.store.inbox"},
        "govbot.forges.github": {"govbot.store.tables", "govbot.core.layout"},
        "govbot.service.worker": set(),
    }
    assert cycles(planted) == [["govbot.cli.a", "govbot.cli.b", "govbot.cli.c"]]
    assert upward(planted) == [
        "govbot.forges.github -> govbot.store.tables",
        "govbot.store.inbox -> govbot.service.worker",
        "webhooks.app -> govbot.service.context",
    ]


def test_relative_imports_resolve(tmp_path: Path) -> None:
    pkg = tmp_path / "govbot" / "store"
    pkg.mkdir(parents=True)
    (pkg / "x.py").write_text("from ..core import layout\nfrom . import tables\n")
    assert imports("govbot.store.x", pkg / "x.py") >= {
        "govbot.core.layout",
        "govbot.store.tables",
    }
