"""The `englog` console script: dev, api, migrate, export-schema."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from englog.logs import configure as configure_logs
from englog.tracing import configure_tracing

DATA_DIR = Path(".englog")
GOING_AWAY_SECONDS = 10.0  # the longest a shutdown spends closing websockets and streams


def _serve_api(host: str, port: int, *, banner: str | None = None) -> None:
    import asyncio
    import math
    import socket

    import uvicorn

    from graph.app import create_app, going_away
    from graph.settings import ApiSettings

    settings = ApiSettings()
    provider = configure_tracing("englog-api", settings.tracing_exporter, settings.otlp_endpoint)
    app = create_app(settings)

    class Server(uvicorn.Server):
        first_signal_at: float | None = None

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
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
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

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

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        lifespan="on",
        log_config=None,  # uvicorn's loggers go through ours (englog/logs.py): one format
        ssl_certfile=settings.tls_cert_file,  # HTTPS when both are set (ApiSettings checks)
        ssl_keyfile=settings.tls_key_file,
        ws_max_size=settings.max_body_bytes,  # a websocket message: the same cap as a body
        ws_per_message_deflate=settings.ws_per_message_deflate,
        # Requests in flight at SIGTERM finish (each is cancelled at its timeout anyway);
        # only a client still sending its body after that is cut off.
        timeout_graceful_shutdown=math.ceil(settings.request_timeout_seconds) + 5,
    )
    server = Server(config)
    if banner:
        print(banner, flush=True)
    try:
        server.run()
    finally:
        if provider is not None:
            provider.shutdown()  # the spans still batched go out
        # A second Ctrl-C (the terminal signals uv and just too) must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


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


def cmd_dev(args: argparse.Namespace) -> int:
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
        base = f"{scheme}://{args.host}:{args.port}"
        grpc_port = os.environ.setdefault("ENGLOG_GRPC_PORT", "50051")
        os.environ.setdefault("ENGLOG_API_GRPC_ADDRESS", f"127.0.0.1:{grpc_port}")
        # The worker dials in and retries until the API's gRPC port answers.
        worker = _start_dev_worker(data_dir)
        try:
            _serve_api(
                args.host,
                args.port,
                banner=(
                    f"\nEngLog is up. GraphiQL: {base}/graphql\n"
                    f"Prometheus metrics: {base}/metrics\n"
                    f"Traces: {_where_traces_go()}\n"
                    "(Ctrl-C stops everything)\n"
                ),
            )
        finally:
            _stop_dev_worker(worker)
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


def _start_dev_worker(data_dir: Path) -> subprocess.Popen[bytes]:
    model = os.environ.get("ENGLOG_OLLAMA_MODEL", "llama3.2:3b")
    if os.environ.get("ENGLOG_OLLAMA_HOST"):
        print(f"Starting a worker using Ollama at {os.environ['ENGLOG_OLLAMA_HOST']} ({model})")
    else:
        print("Starting a worker with the built-in summariser (set ENGLOG_OLLAMA_HOST for an LLM)")
    mail = _dev_mail_env(data_dir)
    sys.stdout.flush()
    # Its lines share the terminal with the API's: text, like them.
    env = {
        **os.environ,
        **mail,
        "ENGLOG_LOG_FORMAT": os.environ.get("ENGLOG_LOG_FORMAT", "text"),
    }
    return subprocess.Popen([sys.executable, "-m", "englog.cli", "worker"], env=env)


def _stop_dev_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()


def cmd_worker(_: argparse.Namespace) -> int:
    from worker.client import serve_forever
    from worker.settings import WorkerSettings

    settings = WorkerSettings()
    provider = configure_tracing("englog-worker", settings.tracing_exporter, settings.otlp_endpoint)
    try:
        serve_forever(settings)
    finally:
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
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
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

    args = parser.parse_args(argv)
    # The two long-running processes log JSON lines for a collector; the rest log for people.
    configure_logs("json" if args.command in ("api", "worker") else "text")
    if getattr(args, "host", None) is None and args.command == "certs":
        args.host = ["localhost", "127.0.0.1"]
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
