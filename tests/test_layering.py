"""The layers of DESIGN.md §2, checked on the source: no import cycles between our modules
(function-level imports included), ``common`` free of web, database and Qt packages, ``client``
never importing ``server``, ``server`` never importing Qt or ``client``.

Every ``.py`` file under common/, server/ and client/ is parsed with ``ast``; every import
statement counts, wherever it is (module level, inside a function, under ``TYPE_CHECKING``).
``from pkg import name`` is an edge to ``pkg.name`` when that is one of our modules, else to
``pkg`` (whose ``__init__`` must then run to give ``name``). Importing ``pkg.mod`` is not
counted as an edge to ``pkg``: Python initialises a package before its submodules, so a
package ``__init__`` that imports its submodules, with submodules that import their siblings
(``from .base import …``), is no cycle; one that imports a name *from* the package
(``from . import API_PREFIX``) is.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("common", "server", "client")
NOT_IN_COMMON = ("flask", "werkzeug", "sqlalchemy", "alembic", "pymysql", "waitress", "PyQt6")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (dotted, absolute)
    line: int


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def collect(root: Path = ROOT, packages: Iterable[str] = OURS
            ) -> tuple[set[str], list[Import]]:
    """Our modules and every import statement in them (relative imports resolved)."""
    files = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            files[path] = _module_name(path, root)
    modules = {name for name, _ in files.values()}
    imports: list[Import] = []
    for path, (name, is_package) in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports += [Import(name, a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for a in node.names:
                    sub = f"{source}.{a.name}" if source else a.name
                    imports.append(Import(name, sub if sub in modules else source,
                                          node.lineno))
    return modules, imports


def graph(modules: set[str], imports: list[Import]) -> dict[str, dict[str, int]]:
    """module → {imported module of ours: line}."""
    out: dict[str, dict[str, int]] = {m: {} for m in modules}
    for imp in imports:
        if imp.target in modules and imp.target != imp.module:
            out[imp.module].setdefault(imp.target, imp.line)
    return out


def find_cycle(edges: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle (``[a, b, …, a]``), or None. Iterative depth-first search."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        todo = [iter(sorted(edges[start]))]
        state[start] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                todo.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(sorted(edges[nxt])))
    return None


def _describe(cycle: list[str], edges: dict[str, dict[str, int]]) -> str:
    steps = [f"{a} (line {edges[a][b]})" for a, b in itertools.pairwise(cycle)]
    return " -> ".join([*steps, cycle[-1]])


@pytest.fixture(scope="module")
def parsed() -> tuple[set[str], list[Import]]:
    return collect()


def test_no_import_cycles(parsed):
    modules, imports = parsed
    assert "server.backup.service" in modules and "common.pricing" in modules
    edges = graph(modules, imports)
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + _describe(cycle, edges)


def _violations(imports: list[Import], layer: str, forbidden: Iterable[str]) -> list[str]:
    bad = tuple(forbidden)
    return [f"{i.module}:{i.line} imports {i.target}" for i in imports
            if (i.module == layer or i.module.startswith(layer + "."))
            and any(i.target == f or i.target.startswith(f + ".") for f in bad)]


def test_common_imports_no_web_database_or_qt(parsed):
    assert _violations(parsed[1], "common", NOT_IN_COMMON) == []


def test_client_never_imports_server(parsed):
    assert _violations(parsed[1], "client", ("server",)) == []


def test_server_never_imports_qt_or_the_client(parsed):
    assert _violations(parsed[1], "server", ("PyQt6", "client")) == []


# -- the checker itself --------------------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checker_sees_a_function_level_cycle_and_not_a_package_init(tmp_path):
    root = _tree(tmp_path, {
        # a package __init__ importing its submodules, which import a sibling: no cycle
        "pkg/__init__.py": "from .base import Base\n\ndef all():\n    from . import a, b\n",
        "pkg/base.py": "class Base: ...\n",
        "pkg/a.py": "from .base import Base\nfrom pkg import b\n",
        "pkg/b.py": "import pkg.base\n",
    })
    modules, imports = collect(root, ["pkg"])
    edges = graph(modules, imports)
    assert find_cycle(edges) is None
    assert set(edges["pkg.a"]) == {"pkg.base", "pkg.b"}
    # a name imported from the package itself, inside a function: a real cycle
    (root / "pkg/b.py").write_text("import pkg.base\n\n\ndef f():\n    from . import all\n")
    modules, imports = collect(root, ["pkg"])
    edges = graph(modules, imports)
    cycle = find_cycle(edges)
    assert cycle is not None and cycle[0] == cycle[-1] == "pkg", cycle
    assert cycle[-2] == "pkg.b", cycle  # pkg (→ pkg.a) → pkg.b → pkg
    assert "pkg.b (line 5)" in _describe(cycle, edges)
