"""`englog dev` as a newcomer runs it: a real process (with the test run's PostgreSQL and Redis,
so no embedded engine starts) in a session of its own, as a terminal's foreground job is, so
that a Ctrl-C reaches it and its worker together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import HOST, REGISTERED, ROOT, START_TIMEOUT, STOP_TIMEOUT, Proc, child_env
from tests.e2e.support import eventually
from tests.factories import free_port

pytestmark = pytest.mark.slow

UP = "EngLog is up"
SERVER_FINISHED = "Finished server process"  # uvicorn's line once the API has shut down


class Dev:
    """Starts `englog dev` processes for one test; every one (and its worker) is gone at its end."""

    def __init__(self, directory: Path, *, database_url: str, redis_url: str) -> None:
        self.directory = directory
        self.database_url = database_url
        self.redis_url = redis_url
        self.procs: list[Proc] = []

    async def start(self, *args: str, env: Mapping[str, str] | None = None) -> Proc:
        settings = {
            "ENGLOG_DATABASE_URL": self.database_url,
            "ENGLOG_REDIS_URL": self.redis_url,
            "ENGLOG_GRPC_PORT": str(free_port()),
            **(env or {}),
        }
        log = self.directory / f"dev-{len(self.procs) + 1}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "englog.cli",
                "dev",
                "--data-dir",
                str(self.directory / "data"),
                *args,
                cwd=ROOT,
                env=child_env(settings),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name="englog-dev", process=process, log=log)
        self.procs.append(proc)
        return proc

    async def close(self) -> None:
        for proc in self.procs:
            # The whole session: the worker too, even if `englog dev` itself died first.
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.process.pid, sig)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.process.wait(), STOP_TIMEOUT)
                    break


@pytest.fixture
async def dev(tmp_path: Path, database_url: str, redis_url: str) -> AsyncIterator[Dev]:
    starter = Dev(tmp_path, database_url=database_url, redis_url=redis_url)
    try:
        yield starter
    finally:
        await starter.close()


async def output_when(proc: Proc, until: Callable[[str], bool], *, what: str) -> str:
    async def read() -> str:
        return proc.output()

    return await eventually(read, until, what=what, within=START_TIMEOUT)


async def exit_code(proc: Proc) -> int:
    return await asyncio.wait_for(proc.process.wait(), START_TIMEOUT)


async def ready_status(port: int) -> int:
    async with httpx.AsyncClient(timeout=5.0) as client:
        return (await client.get(f"http://{HOST}:{port}/ready")).status_code


def worker_pids(pid: int) -> list[int]:
    """The children of `englog dev` (its only children here are its workers), from /proc:
    each thread lists the children it started."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in children.read_text().split()]
    return found


@contextlib.contextmanager
def taken_port() -> Iterator[socket.socket]:
    """A loopback port held by a program that is not EngLog."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind((HOST, 0))
        holder.listen()
        yield holder


async def test_dev_listens_on_englog_http_port(dev: Dev) -> None:
    port = free_port()
    proc = await dev.start(env={"ENGLOG_HTTP_PORT": str(port)})

    output = await proc.wait_for_output(UP)

    assert f"GraphiQL: http://{HOST}:{port}/graphql" in output
    assert await ready_status(port) == 200


async def test_dev_port_option_beats_englog_http_port(dev: Dev) -> None:
    configured, chosen = free_port(), free_port()
    proc = await dev.start("--port", str(chosen), env={"ENGLOG_HTTP_PORT": str(configured)})

    output = await proc.wait_for_output(UP)

    assert f"GraphiQL: http://{HOST}:{chosen}/graphql" in output
    assert await ready_status(chosen) == 200


async def test_dev_on_a_taken_http_port_fails_in_one_line_and_never_says_up(dev: Dev) -> None:
    with taken_port() as holder:
        port = holder.getsockname()[1]
        proc = await dev.start("--port", str(port))
        code = await exit_code(proc)

    assert (code, proc.output().splitlines()) == (
        1,
        [
            f"englog dev: the HTTP port {HOST}:{port} is already in use; "
            "stop what holds it, or choose another with --port or ENGLOG_HTTP_PORT"
        ],
    )


async def test_dev_on_a_taken_grpc_port_fails_in_one_line_and_never_says_up(dev: Dev) -> None:
    with taken_port() as holder:
        port = holder.getsockname()[1]
        proc = await dev.start("--port", str(free_port()), env={"ENGLOG_GRPC_PORT": str(port)})
        code = await exit_code(proc)

    assert (code, proc.output().splitlines()) == (
        1,
        [
            f"englog dev: the worker protocol's gRPC port {HOST}:{port} is already in use; "
            "stop what holds it, or choose another with ENGLOG_GRPC_PORT"
        ],
    )


async def test_dev_restarts_a_worker_that_was_killed(dev: Dev) -> None:
    proc = await dev.start("--port", str(free_port()))
    await proc.wait_for_output(REGISTERED)
    [first] = worker_pids(proc.process.pid)

    os.kill(first, signal.SIGKILL)
    output = await output_when(
        proc, lambda out: out.count(REGISTERED) == 2, what="a second worker registered"
    )

    [second] = worker_pids(proc.process.pid)
    restarts = [line for line in output.splitlines() if " englog.dev " in line]
    assert [line.split(" englog.dev ", 1)[1] for line in restarts] == [
        f"the worker (pid {first}) was killed by SIGKILL; started another (pid {second}) after 1 s"
    ]


async def test_dev_console_tracing_prints_one_json_object_a_line(dev: Dev) -> None:
    port = free_port()
    proc = await dev.start(
        "--port",
        str(port),
        # Spans leave each process within 0.1 s instead of 5 s.
        env={"ENGLOG_TRACING_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100"},
    )
    await proc.wait_for_output(REGISTERED)
    assert await ready_status(port) == 200

    output = await output_when(proc, lambda out: '"trace_id"' in out, what="a span printed")

    lines = [line for line in output.splitlines() if line.startswith("{")]
    spans = [json.loads(line) for line in lines]
    assert len(spans) == output.count('"trace_id"')
    assert all({"name", "context", "start_time", "end_time"} <= span.keys() for span in spans)


async def test_dev_stops_on_ctrl_c_pressed_twice_with_exit_zero_and_no_traceback(dev: Dev) -> None:
    with taken_port() as collector:  # a collector that never answers: the last flush waits
        endpoint = f"http://{HOST}:{collector.getsockname()[1]}/v1/traces"
        proc = await dev.start(
            "--port",
            str(free_port()),
            env={
                "ENGLOG_TRACING_EXPORTER": "otlp",
                "ENGLOG_OTLP_ENDPOINT": endpoint,
                "OTEL_EXPORTER_OTLP_TIMEOUT": "2",
            },
        )
        await proc.wait_for_output(REGISTERED)

        # Ctrl-C signals the terminal's foreground group, and `uv run` (`just dev`) forwards
        # it to `englog dev` once more.
        os.killpg(proc.process.pid, signal.SIGINT)
        os.kill(proc.process.pid, signal.SIGINT)
        # Pressed again while the spans still batched go out.
        await proc.wait_for_output(SERVER_FINISHED)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.process.pid, signal.SIGINT)
        code = await exit_code(proc)

    output = proc.output()
    assert (code, "Traceback" in output, output.splitlines()[-1]) == (0, False, "Stopped.")
    with pytest.raises(ProcessLookupError):  # nothing of it is left: no orphaned worker
        os.killpg(proc.process.pid, 0)
