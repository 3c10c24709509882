"""The house keeps its shape: the package's import graph, read from the source with ``ast``.

Data flows one way — file / TUI / CLI → parse → service → storage — so the rooms may import
only downwards, and no module may reach itself through its imports (lazy imports inside
functions included: they hide a cycle, they do not remove it).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"multisite": ROOT / "src" / "multisite", "multisite.tui": ROOT / "tui"}

# room → the rooms it must never import (a room is multisite.<room>; top-level modules such as
# multisite.i18n are rooms of their own)
FORBIDDEN = {
    "domain": {"services", "storage", "importing", "cli", "tui", "feed", "ical"},
    "storage": {"services", "importing", "cli", "tui", "feed"},
    "importing": {"services", "storage", "cli", "tui", "feed"},
    "services": {"cli", "tui"},
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    out.add(sub)
                elif target in known:
                    out.add(target)
    out.discard(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_rooms_import_only_downwards():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _room(target) in FORBIDDEN.get(_room(module), set())
    )
    assert wrong == []


def test_no_module_reaches_itself_through_its_imports():
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


def test_the_graph_sees_the_imports_it_judges():
    # The checks above are only as good as the graph: it must see relative, absolute and lazy
    # imports, and imports of a module through its package.
    graph = _graph()
    assert "multisite.storage.queries" in graph["multisite.services.registry"]
    assert "multisite.domain.rules" in graph["multisite.services.registry"]
    assert "multisite.services.imports" in graph["multisite.tui.screens.importing"] or (
        "multisite.services" in graph["multisite.tui.screens.importing"]
    )
    assert "multisite.services.demo" in graph["multisite.cli.database"]  # a lazy import


# What outside storage may take from the database libraries: the session type (for
# signatures) and the exceptions (to turn into sentences). Anything else builds SQL or talks to
# a driver, and that is storage's work.
DATABASE_LIBRARIES = ("sqlalchemy", "sqlite3", "psycopg", "psycopg2", "alembic")
ALLOWED_OUTSIDE_STORAGE = {"sqlalchemy.orm.Session", "sqlalchemy.exc"}


def _database_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module in ALLOWED_OUTSIDE_STORAGE:
                found.add(node.module)
            else:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {
        name
        for name in found
        if name.split(".")[0] in DATABASE_LIBRARIES and name not in ALLOWED_OUTSIDE_STORAGE
    }


def test_only_storage_speaks_sql():
    wrong = sorted(
        f"{module} imports {name}"
        for module, path in _modules().items()
        if _room(module) != "storage"
        for name in _database_imports(path)
    )
    assert wrong == []


def test_the_sql_check_sees_what_it_judges(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sqlite3\nimport sqlalchemy as sa\nfrom sqlalchemy import select\n"
        "from sqlalchemy.orm import Session\nfrom sqlalchemy.exc import IntegrityError\n"
    )
    assert _database_imports(sample) == {"sqlite3", "sqlalchemy", "sqlalchemy.select"}
