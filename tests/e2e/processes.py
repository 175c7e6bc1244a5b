"""Real EngLog processes for end-to-end tests: the API, workers and the fake Ollama.

Each runs as `sys.executable -m …` on free loopback ports, with its output in a file of its
own, and small timings so that leases expire and retries happen within seconds. Every wait
here is bounded (a deadline, then a failure that names the process); nothing is timed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import ssl
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.factories import GENEROUS_RATE_LIMITS, free_port

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
JWT_SECRET = "e2e-secret-that-is-long-enough-for-hs256!"
START_TIMEOUT = 30.0  # a process must be ready within this
STOP_TIMEOUT = 10.0  # SIGTERM, then this long, then SIGKILL
POLL_INTERVAL = 0.05
# Small on purpose: a lost lease comes back within ~3 s, a stream notices new tasks at once.
API_TIMINGS = {
    "ENGLOG_TASK_LEASE_SECONDS": "2",
    "ENGLOG_HEARTBEAT_INTERVAL_SECONDS": "1",
    "ENGLOG_TASK_POLL_SECONDS": "0.5",
}
REGISTERED = "registered with"  # the worker's log line once the API accepted it
UNREACHABLE = "API unreachable"  # the worker's log line when a connection attempt fails


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """This environment without any ENGLOG_* setting of the caller's, plus `env`. Processes
    log text, which the tests search (tests/e2e/test_logs.py asks for JSON lines)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ENGLOG_")}
    # No scheduler unless a test asks for one: it would act at real Mondays 09:00.
    defaults = {"PYTHONUNBUFFERED": "1", "ENGLOG_LOG_FORMAT": "text", "ENGLOG_SCHEDULER": "false"}
    return {**inherited, **defaults, **env}


@dataclass
class Proc:
    """A child process and the file its stdout and stderr go to."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    started_at: float = field(default_factory=time.monotonic)

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    async def wait_for_output(self, text: str, *, within: float = START_TIMEOUT) -> str:
        """The output once it contains `text`; fails if the process exits or time runs out."""
        deadline = time.monotonic() + within
        while True:
            output = self.output()
            if text in output:
                return output
            if not self.running:
                raise AssertionError(
                    f"{self.name} exited ({self.process.returncode}) before writing {text!r}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not write {text!r} within {within:g} s")
            await asyncio.sleep(POLL_INTERVAL)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine loses power."""
        if self.running:
            self.process.kill()
        await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)

    async def stop(self) -> None:
        """SIGTERM (a clean stop), SIGKILL if that takes longer than STOP_TIMEOUT."""
        if self.running:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
                return
            except TimeoutError:
                self.process.kill()
        await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)


@dataclass
class ApiProcess:
    proc: Proc
    http_port: int
    grpc_port: int
    ca_file: str | None = None  # set when the API serves HTTPS with a certificate of this CA

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ca_file else "http"
        return f"{scheme}://{HOST}:{self.http_port}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True

    @property
    def grpc_address(self) -> str:
        return f"{HOST}:{self.grpc_port}"


@dataclass
class FakeOllamaProcess:
    proc: Proc
    url: str

    async def requests(self) -> list[dict[str, Any]]:
        """Every request it received so far (method, path, body)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=5.0) as client:
            response = await client.get("/_fake/requests")
        response.raise_for_status()
        requests: list[dict[str, Any]] = response.json()
        return requests

    async def insight_requests(self) -> list[dict[str, Any]]:
        """The streamed chat requests: one per generated insight (entry enrichment asks for
        structured output, with a `format`, and is left out)."""
        return [
            r
            for r in await self.requests()
            if r["path"] == "/api/chat" and not (r["body"] or {}).get("format")
        ]


class Launcher:
    """Starts the processes of one fixture scope and stops every one of them at its end."""

    # Every process any launcher started in this session: failure reports print their output.
    started: list[Proc] = []  # noqa: RUF012 - deliberately shared by all launchers
    _names = itertools.count(1)

    def __init__(self, directory: Path, *, database_url: str, redis_url: str) -> None:
        self.directory = directory
        self.database_url = database_url
        self.redis_url = redis_url
        self.procs: list[Proc] = []

    async def start(self, name: str, *args: str, env: Mapping[str, str] | None = None) -> Proc:
        """`python -m <args>` with its output to a log file; returns at once."""
        log = self.directory / f"{next(self._names):02d}-{name}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                *args,
                cwd=ROOT,
                env=child_env(env or {}),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        proc = Proc(name=name, process=process, log=log)
        self.procs.append(proc)
        Launcher.started.append(proc)
        return proc

    async def run(self, name: str, *args: str) -> str:
        """`python -m <args>` to completion; its output (it must exit 0)."""
        proc = await self.start(name, *args)
        code = await asyncio.wait_for(proc.process.wait(), START_TIMEOUT)
        assert code == 0, f"{' '.join(args)} exited with {code}:\n{proc.output()}"
        return proc.output()

    async def api(
        self,
        env: Mapping[str, str] | None = None,
        *,
        name: str = "api",
        ports: tuple[int, int] | None = None,
        ca_file: str | None = None,
    ) -> ApiProcess:
        """`englog api` against the test database on `ports` (HTTP, gRPC; by default fresh
        ones); returns once /ready answers 200 (over HTTPS, trusting `ca_file`, when given)."""
        http_port, grpc_port = ports or (free_port(), free_port())
        settings = {
            "ENGLOG_DATABASE_URL": self.database_url,
            "ENGLOG_REDIS_URL": self.redis_url,
            "ENGLOG_JWT_SECRET": JWT_SECRET,
            "ENGLOG_HTTP_HOST": HOST,
            "ENGLOG_HTTP_PORT": str(http_port),
            "ENGLOG_GRPC_HOST": HOST,
            "ENGLOG_GRPC_PORT": str(grpc_port),
            # argon2 at its cheapest: sign-ups are set-up here, not what is tested.
            "ENGLOG_PASSWORD_TIME_COST": "1",
            "ENGLOG_PASSWORD_MEMORY_COST_KIB": "64",
            "ENGLOG_DB_POOL_SIZE": "5",
            **{f"ENGLOG_{key.upper()}": value for key, value in GENEROUS_RATE_LIMITS.items()},
            **API_TIMINGS,
            **(env or {}),
        }
        proc = await self.start(name, "englog.cli", "api", env=settings)
        api = ApiProcess(proc, http_port, grpc_port, ca_file)
        await _wait_ready(api)
        return api

    async def worker(
        self,
        api: ApiProcess,
        env: Mapping[str, str] | None = None,
        *,
        name: str = "worker",
        wait: bool = True,
    ) -> Proc:
        """`englog worker` dialling `api`; with `wait`, returns once the API registered it."""
        settings = {
            "ENGLOG_API_GRPC_ADDRESS": api.grpc_address,
            "ENGLOG_WORKER_NAME": name,
            "ENGLOG_OLLAMA_RETRY_BACKOFF_SECONDS": "0.05",
            **(env or {}),
        }
        proc = await self.start(name, "englog.cli", "worker", env=settings)
        if wait:
            await proc.wait_for_output(REGISTERED)
        return proc

    async def fake_ollama(self, script: Mapping[str, Any]) -> FakeOllamaProcess:
        """The fake Ollama (tests/fakes/ollama.py) on a free port, following `script`."""
        proc = await self.start(
            "fake-ollama", "tests.fakes.ollama", "--port", "0", "--script", json.dumps(script)
        )
        output = await proc.wait_for_output("fake-ollama listening on ")
        url = output.split("fake-ollama listening on ", 1)[1].split()[0]
        return FakeOllamaProcess(proc, url)

    async def close(self) -> None:
        """Stops every process (workers first, the API and the fake Ollama last)."""
        newest_first = self.procs[::-1]
        workers = [p for p in newest_first if p.name.startswith("worker")]
        errors: list[BaseException] = []
        for proc in workers + [p for p in newest_first if p not in workers]:
            try:
                await proc.stop()
            except ProcessLookupError:
                pass  # it had exited already
            except (TimeoutError, OSError) as exc:  # still stop the others; report it after
                errors.append(exc)
        if errors:
            raise errors[0]


async def _wait_ready(api: ApiProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=api.base_url, timeout=2.0, verify=api.verify) as client:
        while True:
            if not api.proc.running:
                raise AssertionError(
                    f"{api.proc.name} exited ({api.proc.process.returncode}):\n{api.proc.output()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/ready")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{api.proc.name} was not ready within {START_TIMEOUT:g} s")
            await asyncio.sleep(POLL_INTERVAL)
