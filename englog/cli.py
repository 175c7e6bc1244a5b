"""The `englog` console script: dev, api, migrate, export-schema."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from core.logs import configure as configure_logs
from core.tracing import configure_tracing
from englog import log_command

DATA_DIR = Path(".englog")
GOING_AWAY_SECONDS = 10.0  # the longest a shutdown spends closing websockets and streams
# A dev worker that dies is started again after a back-off that doubles, from the first to
# the longest, while it keeps dying young; one that ran a while starts over at the first.
WORKER_RESTART_FIRST_SECONDS = 1.0
WORKER_RESTART_LONGEST_SECONDS = 30.0
WORKER_RAN_A_WHILE_SECONDS = 60.0

logger = logging.getLogger("englog.dev")

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

    from graph.settings import ApiSettings


def server_config(app: ASGIApp, settings: ApiSettings, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration `englog api` and `englog dev` serve the API with."""
    import math

    import uvicorn

    from graph.live.fanout import WS_PROTOCOL

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        lifespan="on",
        log_config=None,  # uvicorn's loggers go through ours (core/logs.py): one format
        ssl_certfile=settings.tls_cert_file,  # HTTPS when both are set (ApiSettings checks)
        ssl_keyfile=settings.tls_key_file,
        # Chosen, not left to "auto": the live fast path writes into this protocol's
        # connections (graph/live/fanout.py); under another every socket takes the slow path.
        ws=WS_PROTOCOL,
        ws_max_size=settings.max_body_bytes,  # a websocket message: the same cap as a body
        ws_per_message_deflate=settings.ws_per_message_deflate,
        # Requests in flight at SIGTERM finish (each is cancelled at its timeout anyway);
        # only a client still sending its body after that is cut off.
        timeout_graceful_shutdown=math.ceil(settings.request_timeout_seconds) + 5,
    )


def _serve_api(
    host: str,
    port: int,
    *,
    sockets: list[socket.socket] | None = None,
    on_started: Callable[[], None] | None = None,
    on_exit: Callable[[], None] | None = None,
) -> None:
    """Serves the API until SIGINT/SIGTERM, on `sockets` when given (bound already), else on
    host:port. `on_started` runs once it listens, `on_exit` at the first stop signal."""
    import asyncio

    import uvicorn

    from graph.app import create_app, going_away
    from graph.settings import ApiSettings

    settings = ApiSettings()
    provider = configure_tracing("englog-api", settings.tracing_exporter, settings.otlp_endpoint)
    app = create_app(settings)

    class Server(uvicorn.Server):
        first_signal_at: float | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and on_started is not None:
                on_started()

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if on_exit is not None:
                on_exit()
            # One Ctrl-C reaches this process several times (the terminal signals the whole
            # group, and `just` and `uv` forward it too). Only a Ctrl-C pressed again a
            # second later means "force quit"; the echoes must not skip the clean shutdown.
            now = time.monotonic()
            if self.first_signal_at is not None and now - self.first_signal_at < 1.0:
                return
            self.first_signal_at = self.first_signal_at or now
            super().handle_exit(sig, frame)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal after a graceful shutdown, which turns Ctrl-C into
            # a KeyboardInterrupt inside asyncio.run and cuts the lifespan's cleanup short.
            handled = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                # From here on the process cleans up (the spans still batched, the dev
                # worker, the embedded engines): a Ctrl-C pressed again, or echoed by uv and
                # just, must not cut that short with a KeyboardInterrupt.
                for sig, handler in previous.items():
                    signal.signal(sig, signal.SIG_IGN if sig == signal.SIGINT else handler)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # SIGTERM: accept nothing new (uvicorn closes the listeners again, harmlessly),
            # then close websockets with 1001 and hand the workers' leases back, where
            # uvicorn alone would drop the sockets with 1012; then uvicorn waits for the
            # HTTP requests in flight and runs the lifespan's shutdown.
            for server in self.servers:
                server.close()
            for sock in sockets or []:
                sock.close()
            try:
                await asyncio.wait_for(going_away(app), GOING_AWAY_SECONDS)
            except Exception:  # the shutdown goes on whatever happened to the farewells
                logging.getLogger("englog.api").warning("going away failed", exc_info=True)
            await super().shutdown(sockets)

    server = Server(server_config(app, settings, host, port))
    try:
        server.run(sockets)
    finally:
        # A second Ctrl-C (the terminal signals uv and just too) must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if provider is not None:
            provider.shutdown()  # the spans still batched go out


@contextlib.contextmanager
def _dev_services(data_dir: Path) -> Iterator[tuple[str, str]]:
    """The configured URLs, or embedded engines under data_dir for the ones not configured."""
    with contextlib.ExitStack() as stack:
        database_url = os.environ.get("ENGLOG_DATABASE_URL")
        redis_url = os.environ.get("ENGLOG_REDIS_URL")
        if not database_url or not redis_url:
            from englog.embedded import embedded_postgres, embedded_redis

            if not database_url:
                print(f"Starting embedded PostgreSQL in {data_dir / 'pg'} …", flush=True)
                database_url = stack.enter_context(embedded_postgres(data_dir / "pg"))
            if not redis_url:
                print(f"Starting embedded Redis in {data_dir / 'redis'} …", flush=True)
                redis_url = stack.enter_context(embedded_redis(data_dir / "redis"))
        yield database_url, redis_url


class PortTaken(Exception):
    """A port `englog dev` needs is held by another program; the message says what to do."""


def _bind(host: str, port: int, *, what: str, instead: str) -> socket.socket:
    """A socket bound to host:port, as uvicorn binds one (listening is the server's part)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As every server does: a port a stopped server left in TIME_WAIT is free.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(
                f"{what} {host}:{port} is already in use; stop what holds it, "
                f"or choose another with {instead}"
            ) from None
        raise PortTaken(f"{what} {host}:{port} cannot be used ({exc.strerror})") from None
    return sock


def cmd_dev(args: argparse.Namespace) -> int:
    from graph.settings import ApiSettings

    configured = ApiSettings()
    host = configured.http_host if args.host is None else args.host
    port = configured.http_port if args.port is None else args.port
    # Both ports are checked before anything starts, so that a clash is one line, never an
    # "EngLog is up" followed by a traceback. The HTTP socket is kept and served on; gRPC
    # binds its own (graph/tasks/server.py), a moment later.
    try:
        listener = _bind(host, port, what="the HTTP port", instead="--port or ENGLOG_HTTP_PORT")
        try:
            if configured.grpc_port:
                _bind(
                    configured.grpc_host,
                    configured.grpc_port,
                    what="the worker protocol's gRPC port",
                    instead="ENGLOG_GRPC_PORT",
                ).close()
        except PortTaken:
            listener.close()
            raise
    except PortTaken as exc:
        print(f"englog dev: {exc}", file=sys.stderr, flush=True)
        return 1
    with contextlib.closing(listener):
        try:
            return _run_dev(args, listener, host, grpc_port=configured.grpc_port)
        except KeyboardInterrupt:  # Ctrl-C before the server was up (migrations, engines)
            print("Stopped.", flush=True)
            return 130


def _run_dev(
    args: argparse.Namespace, listener: socket.socket, host: str, *, grpc_port: int
) -> int:
    from db.migrate import upgrade

    data_dir = Path(args.data_dir).resolve()
    with _dev_services(data_dir) as (database_url, redis_url):
        os.environ["ENGLOG_DATABASE_URL"] = database_url
        os.environ["ENGLOG_REDIS_URL"] = redis_url
        print("Applying migrations …", flush=True)
        upgrade(database_url)
        if args.demo:
            from englog.demo import seed_demo

            seed_demo(database_url)
        scheme = "https" if os.environ.get("ENGLOG_TLS_CERT_FILE") else "http"
        port = listener.getsockname()[1]  # the one chosen, when asked for port 0
        base = f"{scheme}://{host}:{port}"
        os.environ.setdefault("ENGLOG_API_GRPC_ADDRESS", f"127.0.0.1:{grpc_port}")
        worker_env = _dev_worker_env(data_dir)
        supervisor = WorkerSupervisor(lambda: _start_dev_worker(worker_env))
        banner = (
            f"\nEngLog is up. Web app: {base}/\n"
            f"GraphiQL: {base}/graphql\n"
            f"Prometheus metrics: {base}/metrics\n"
            f"Traces: {_where_traces_go()}\n"
            "(Ctrl-C stops everything)\n"
        )

        def up() -> None:
            print(banner, flush=True)
            supervisor.start()  # once the API listens: the worker dials in at once

        try:
            _serve_api(host, port, sockets=[listener], on_started=up, on_exit=supervisor.stopping)
        finally:
            supervisor.stop()
    print("Stopped.", flush=True)
    return 0


def _where_traces_go() -> str:
    exporter = os.environ.get("ENGLOG_TRACING_EXPORTER", "none")
    if exporter == "console":
        return "printed to this terminal as they end (ENGLOG_TRACING_EXPORTER=console)"
    if exporter == "otlp":
        return f"sent over OTLP to {os.environ.get('ENGLOG_OTLP_ENDPOINT', 'localhost:4318')}"
    return "off (ENGLOG_TRACING_EXPORTER=console prints them here, =otlp sends them on)"


def _dev_mail_env(data_dir: Path) -> dict[str, str]:
    """Where the dev worker's e-mails go: the configured SMTP server, else a mailbox file in
    the data directory, so a newcomer sees them with no mail server."""
    host = os.environ.get("ENGLOG_SMTP_HOST")
    if host:
        print(f"E-mails are sent through {host}:{os.environ.get('ENGLOG_SMTP_PORT', '587')}")
        return {}
    mailbox = os.environ.get("ENGLOG_MAILBOX_FILE") or str(data_dir / "mailbox")
    print(f"E-mails are written to {mailbox} (set ENGLOG_SMTP_HOST to send them)")
    return {"ENGLOG_MAILBOX_FILE": mailbox}


def _dev_worker_env(data_dir: Path) -> dict[str, str]:
    """The dev worker's environment, said once (a restarted worker gets the same)."""
    model = os.environ.get("ENGLOG_OLLAMA_MODEL", "llama3.2:3b")
    if os.environ.get("ENGLOG_OLLAMA_HOST"):
        print(f"Starting a worker using Ollama at {os.environ['ENGLOG_OLLAMA_HOST']} ({model})")
    else:
        print("Starting a worker with the built-in summariser (set ENGLOG_OLLAMA_HOST for an LLM)")
    mail = _dev_mail_env(data_dir)
    sys.stdout.flush()
    # Its lines share the terminal with the API's: text, like them.
    return {
        **os.environ,
        **mail,
        "ENGLOG_LOG_FORMAT": os.environ.get("ENGLOG_LOG_FORMAT", "text"),
    }


def _start_dev_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "englog.cli", "worker"], env=env)


def _stop_dev_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class WorkerSupervisor:
    """Keeps one dev worker running: a worker that dies (killed, crashed, out of memory) is
    replaced after a back-off, in one log line, until `englog dev` stops."""

    def __init__(self, start: Callable[[], subprocess.Popen[bytes]]) -> None:
        self._start = start
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # no worker is started while stop() looks for it
        self._worker: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._supervise, name="dev-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stopping(self) -> None:
        """From now on a worker that ends stays ended (safe in a signal handler)."""
        self._stopping.set()

    def stop(self) -> None:
        """Stops the worker (SIGTERM, then SIGKILL after 10 s) and the supervision."""
        self._stopping.set()
        with self._lock:
            worker = self._worker
        if worker is not None:
            _stop_dev_worker(worker)
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _supervise(self) -> None:
        delay = WORKER_RESTART_FIRST_SECONDS
        ended: str | None = None  # how the previous worker ended, once one did
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                worker = self._worker = self._start()
            started_at = time.monotonic()
            if ended is not None:
                logger.warning(
                    "the worker %s; started another (pid %d) after %g s",
                    ended,
                    worker.pid,
                    delay,
                )
                delay = min(delay * 2, WORKER_RESTART_LONGEST_SECONDS)
            code = worker.wait()
            if time.monotonic() - started_at >= WORKER_RAN_A_WHILE_SECONDS:
                delay = WORKER_RESTART_FIRST_SECONDS
            ended = f"(pid {worker.pid}) {_how_it_ended(code)}"
            # Waiting first also lets a Ctrl-C, which reaches the worker and `englog dev`
            # together, stop everything before a worker it ended would be replaced.
            if self._stopping.wait(delay):
                return


def cmd_worker(_: argparse.Namespace) -> int:
    from worker.client import serve_forever
    from worker.settings import WorkerSettings

    settings = WorkerSettings()
    provider = configure_tracing("englog-worker", settings.tracing_exporter, settings.otlp_endpoint)
    try:
        serve_forever(settings)
    except KeyboardInterrupt:
        pass  # a Ctrl-C echo once its loop had stopped listening: the stop was under way
    finally:
        # The spans still batched go out; a Ctrl-C echo must not cut that short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if provider is not None:
            provider.shutdown()
    return 0


def cmd_certs(args: argparse.Namespace) -> int:
    from englog.certs import write_certificates

    paths = write_certificates(Path(args.directory), server_hosts=args.host)
    for name, path in paths.items():
        print(f"{name:12} {path}")
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    from graph.settings import ApiSettings

    settings = ApiSettings()
    _serve_api(args.host or settings.http_host, args.port or settings.http_port)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.migrate import upgrade
    from graph.settings import ApiSettings

    upgrade(ApiSettings().database_url, args.revision)
    return 0


def cmd_export_schema(_: argparse.Namespace) -> int:
    from graph.schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="englog", description="EngLog: the self-hosted work log.")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser(
        "dev", help="everything on this machine, embedded databases if none set"
    )
    dev.add_argument("--host", default=None, help="default ENGLOG_HTTP_HOST, else 127.0.0.1")
    dev.add_argument("--port", type=int, default=None, help="default ENGLOG_HTTP_PORT, else 8000")
    dev.add_argument("--data-dir", default=str(DATA_DIR), help="where embedded engines keep data")
    dev.add_argument("--demo", action="store_true", help="seed a demo user with a week of entries")
    dev.set_defaults(run=cmd_dev)

    api = commands.add_parser("api", help="the public API process")
    api.add_argument("--host", default=None)
    api.add_argument("--port", type=int, default=None)
    api.set_defaults(run=cmd_api)

    worker = commands.add_parser("worker", help="the private worker process (dials the API)")
    worker.set_defaults(run=cmd_worker)

    certs = commands.add_parser("certs", help="write a CA, server and client certificate (mTLS)")
    certs.add_argument("directory")
    certs.add_argument(
        "--host",
        action="append",
        default=None,
        help="name or IP the API's gRPC port is reached at "
        "(repeatable; default localhost and 127.0.0.1)",
    )
    certs.set_defaults(run=cmd_certs)

    migrate = commands.add_parser("migrate", help="alembic upgrade (head by default)")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(run=cmd_migrate)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.set_defaults(run=cmd_export_schema)

    log_command.add_commands(commands)

    args = parser.parse_args(argv)
    # The two long-running processes log JSON lines for a collector; the rest log for people.
    configure_logs("json" if args.command in ("api", "worker") else "text")
    if getattr(args, "host", None) is None and args.command == "certs":
        args.host = ["localhost", "127.0.0.1"]
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
