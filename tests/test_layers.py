"""The layers the folders show: the worker loads none of the API's libraries, and no module
imports across a forbidden arrow (core/ and protos/ import nothing of ours, db/ and the
worker nothing of the API, nobody imports englog/, the top)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import worker

ROOT = Path(__file__).resolve().parent.parent
# The API's own package and the libraries only it needs: a worker that loaded them would pay
# their import time and memory for nothing, and would break on a machine without them.
API_ONLY = ("graph", "strawberry", "sqlalchemy", "sqlmodel", "redis")
OUR_PACKAGES = ("core", "db", "englog", "graph", "protos", "worker")


def modules_loaded_by(*modules: str) -> list[str]:
    """The top-level names in sys.modules of a fresh interpreter that imported `modules`."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def worker_modules() -> list[str]:
    return sorted(info.name for info in pkgutil.walk_packages(worker.__path__, prefix="worker."))


def test_the_worker_modules_are_all_checked() -> None:
    assert {"worker.settings", "worker.mail", "worker.client", "worker.tasks.insight"} <= set(
        worker_modules()
    )


def test_the_worker_loads_none_of_the_api_libraries() -> None:
    loaded = modules_loaded_by(*worker_modules())
    assert [name for name in API_ONLY if name in loaded] == []


def test_the_englog_worker_command_loads_none_of_the_api_libraries() -> None:
    # `englog worker` goes through the CLI module, its logs and its tracing.
    loaded = modules_loaded_by("englog.cli", "worker.client", "worker.settings")
    assert [name for name in API_ONLY if name in loaded] == []


# The arrows the folders forbid, by the importing package: the worker and the database layer
# know nothing of the API; db/ holds SQL, not the worker's vocabulary (protos/); the protocol
# and core/ import nothing of ours but themselves; englog/ is the top, imported by nobody.
# graph/ may import db/, protos/ and core/, never the worker's code (another process).
FORBIDDEN: dict[str, frozenset[str]] = {
    "core": frozenset(OUR_PACKAGES) - {"core"},
    "protos": frozenset(OUR_PACKAGES) - {"protos"},
    "db": frozenset({"graph", "worker", "protos", "englog"}),
    "worker": frozenset({"graph", "db", "englog"}),
    "graph": frozenset({"worker", "englog"}),
    "englog": frozenset(),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, package: bool = False) -> list[tuple[int, str]]:
    """Every import in `source` (the module `module`) with its line: at the top, inside
    functions and under TYPE_CHECKING alike, relative ones resolved to absolute names."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".")
            if node.level:  # `from . import x` in a package is relative to the package itself
                base = base[: len(base) - node.level + (1 if package else 0)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return sorted(found)


def forbidden_arrows() -> list[str]:
    arrows = []
    for layer, banned in FORBIDDEN.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            module = module_name(path)
            package = path.name == "__init__.py"
            for line, name in imports_of(path.read_text(), module, package=package):
                if name.split(".")[0] in banned:
                    arrows.append(f"{path.relative_to(ROOT)}:{line} → {name}")
    return arrows


def test_imports_are_found_in_functions_under_type_checking_and_relative() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import core.net, worker\n"
        "if TYPE_CHECKING:\n"
        "    from graph.context import Context\n"
        "def late():\n"
        "    from englog import cli\n"
        "from .. import queue\n"
        "from ..models import user\n"
    )
    assert imports_of(source, "db.queries.insight") == [
        (1, "typing"),
        (2, "core.net"),
        (2, "worker"),
        (4, "graph.context"),
        (6, "englog"),
        (7, "db"),
        (8, "db.models"),
    ]
    assert imports_of("from . import v1", "protos.generated", package=True) == [
        (1, "protos.generated")
    ]


def test_every_layer_is_walked() -> None:
    walked = {layer: len(list((ROOT / layer).rglob("*.py"))) for layer in FORBIDDEN}
    assert set(walked) == set(OUR_PACKAGES)
    assert [layer for layer, count in walked.items() if count == 0] == []


def test_no_module_imports_across_a_forbidden_arrow() -> None:
    arrows = forbidden_arrows()
    assert not arrows, "forbidden imports (module:line → import):\n" + "\n".join(arrows)


def late_imports_of_ours(source: str) -> list[tuple[int, str]]:
    """Imports of our packages inside a function or class, other than under TYPE_CHECKING
    (annotations only): a late import hides a cycle the layers should have broken."""
    tree = ast.parse(source)
    for_types = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for inner in ast.walk(node):
            if id(inner) in for_types:
                continue
            if isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            elif isinstance(inner, ast.ImportFrom) and not inner.level:
                names = [inner.module or ""]
            else:
                continue
            found += [(inner.lineno, n) for n in names if n.split(".")[0] in OUR_PACKAGES]
    return sorted(set(found))


def test_late_imports_are_found_outside_type_checking_only() -> None:
    source = (
        "def f():\n"
        "    import json\n"
        "    from graph.context import Context\n"
        "    if TYPE_CHECKING:\n"
        "        from db.models import User\n"
    )
    assert late_imports_of_ours(source) == [(3, "graph.context")]


def test_no_module_but_the_cli_imports_ours_late() -> None:
    # englog/ is exempt: its CLI imports a command's process when it runs, so that
    # `englog worker` never loads the API's libraries.
    late = [
        f"{path.relative_to(ROOT)}:{line} → {name}"
        for layer in sorted(set(OUR_PACKAGES) - {"englog"})
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, name in late_imports_of_ours(path.read_text())
    ]
    assert not late, "imports inside functions (module:line → import):\n" + "\n".join(late)
