"""What a run needs around it: PostgreSQL, Redis, a fresh database and two server processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# asyncpg ships no type information; the ignore stays quiet once the project types it.
import asyncpg  # type: ignore[import-untyped,unused-ignore]
import httpx
from sqlalchemy.engine import make_url

from db.engine import asyncpg_dsn
from db.migrate import upgrade
from graph.live.fanout import WS_PROTOCOL

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".englog" / "bench"
DATABASE = "englog_bench"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class BenchError(RuntimeError):
    """A run that cannot give trustworthy figures; main() prints it and exits non-zero."""


@contextlib.contextmanager
def postgres_server() -> Iterator[tuple[str, str]]:
    """(a URL on a PostgreSQL server, where it came from) for the duration."""
    for variable in ("ENGLOG_DATABASE_URL", "ENGLOG_TEST_DATABASE_URL"):
        url = os.environ.get(variable)
        if url:
            yield url, variable
            return
    from englog.embedded import embedded_postgres

    print(f"Starting embedded PostgreSQL in {DATA_DIR / 'pg'} …", flush=True)
    with embedded_postgres(DATA_DIR / "pg") as url:
        yield url, "embedded PostgreSQL"


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, str]]:
    for variable in ("ENGLOG_REDIS_URL", "ENGLOG_TEST_REDIS_URL"):
        url = os.environ.get(variable)
        if url:
            yield url, variable
            return
    from englog.embedded import embedded_redis

    print(f"Starting embedded Redis in {DATA_DIR / 'redis'} …", flush=True)
    with embedded_redis(DATA_DIR / "redis") as url:
        yield url, "embedded Redis"


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin_url(server_url: str) -> str:
    # Never administer a bench database from a connection to that database itself.
    if str(make_url(server_url).database).startswith(DATABASE):
        return with_database(server_url, "postgres")
    return server_url


async def _admin(server_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(_admin_url(server_url)))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def bench_database(server_url: str, name: str = DATABASE) -> Iterator[str]:
    """A fresh database `name` migrated to head; dropped afterwards."""
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(_admin(server_url, drop, f'CREATE DATABASE "{name}"'))
    url = with_database(server_url, name)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(server_url, drop))


def free_port() -> int:
    """A loopback port free right now (uvicorn binds it a moment later; a clash fails loudly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU the process has used so far (Linux /proc), None elsewhere."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def uvicorn_server(
    name: str,
    factory: str,
    env: dict[str, str],
    log_dir: Path,
    flags: Sequence[str] = (),
) -> Iterator[Server]:
    """`factory` served by uvicorn in a child process: one worker, loopback, quiet logs, and
    the websocket protocol `englog api` serves with (englog/cli.py `server_config`)."""
    port = free_port()
    argv = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--host", HOST, "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log", "--lifespan", "on", "--ws", WS_PROTOCOL,
        *flags,
    ]  # fmt: skip
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        # Fixed argv (this interpreter, a module of this repo): no untrusted input.
        process = subprocess.Popen(  # noqa: S603
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield Server(name=name, process=process, port=port, log=log)
    finally:
        _stop(process)


@contextlib.contextmanager
def python_module(
    name: str, args: list[str], env: dict[str, str], log_dir: Path
) -> Iterator[Server]:
    """`python -m <args>` in a child process (a worker, the fake Ollama): no port of its own."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        # Fixed argv (this interpreter, a module of this repo): no untrusted input.
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Server(name=name, process=process, port=0, log=log)
    finally:
        _stop(process)


async def wait_for_log(server: Server, text: str) -> str:
    """The process's log once it contains `text`; BenchError if it dies or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        output = server.log.read_text(errors="replace")
        if text in output:
            return output
        code = server.process.poll()
        if code is not None:
            raise BenchError(f"{server.name} exited with {code}:\n{server.log_tail()}")
        await asyncio.sleep(0.05)
    raise BenchError(f"{server.name} did not log {text!r} in {START_TIMEOUT:.0f} s")


async def wait_live(server: Server) -> None:
    """Returns once GET /live answers 200; BenchError if the process dies or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                raise BenchError(f"{server.name} exited with {code}:\n{server.log_tail()}")
            try:
                if (await client.get("/live")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise BenchError(f"{server.name} did not answer /live in {START_TIMEOUT:.0f} s")
