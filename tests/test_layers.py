"""The layers the folders show: the worker loads none of the API's libraries, and core/
imports nothing of ours."""

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


def test_core_imports_nothing_of_ours() -> None:
    imported = set()
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert sorted(imported & set(OUR_PACKAGES) - {"core"}) == []
