"""`uv run just bench [--only entries|insights|subscriptions|web] [options]`: the logEntries page
against a plain Starlette floor, the insight pipeline (API, task queue, worker processes, fake
Ollama), insightEvents fan-out to many websockets against a plain websocket broadcast (only
with `--only subscriptions`: it takes minutes), and the web app's first load in Chromium
against static files (only with `--only web`: it needs Debian's chromium)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench.documents import PAGE_QUERY, PAGE_SIZE
from bench.export import render_export, run_export
from bench.insights import InsightRun, render_insights, run_insights
from bench.load import Phase, Target, http_request, run_phase
from bench.report import RunInfo, render
from bench.seed import ENTRIES, seed
from bench.services import (
    HOST,
    BenchError,
    Server,
    bench_database,
    free_port,
    postgres_server,
    redis_server,
    uvicorn_server,
    wait_live,
)
from bench.sqlcount import SqlCounts, count_page_sql
from bench.subscriptions import render_subscriptions, run_subscriptions
from bench.web import render_web, run_web
from graph.settings import ApiSettings

INSIGHTS_DATABASE = "englog_bench_insights"
SUBSCRIPTIONS_DATABASE = "englog_bench_subscriptions"
WEB_DATABASE = "englog_bench_web"
EXPORT_DATABASE = "englog_bench_export"


RATE_LIMITED_KINDS = ("OPERATIONS", "AUTH_IP", "AUTH_EMAIL", "INSIGHTS")


def _bounded(kind: type[float] | type[int], low: float, high: float) -> Any:
    def parse(text: str) -> float | int:
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "--seconds",
        type=_bounded(float, 1, 120),
        default=10.0,
        help="timed seconds per server (default 10)",
    )
    parser.add_argument(
        "--concurrency",
        type=_bounded(int, 1, 64),
        default=8,
        help="keep-alive connections sending at once (default 8)",
    )
    parser.add_argument(
        "--warmup",
        type=_bounded(float, 0, 30),
        default=2.0,
        help="untimed seconds per server first (default 2)",
    )
    parser.add_argument(
        "--rounds",
        type=_bounded(int, 1, 10),
        default=2,
        help="alternate the servers in this many rounds (default 2)",
    )
    parser.add_argument(
        "--no-sql-count", action="store_true", help="skip counting the SQL of one GraphQL page"
    )
    parser.add_argument(
        "--only",
        choices=("entries", "insights", "subscriptions", "web", "export"),
        default=None,
        help="run one benchmark: the logEntries page, the insight pipeline, insightEvents "
        "fan-out, the web app's first load or a 50,000-entry CSV export (default: the "
        "first two)",
    )
    parser.add_argument(
        "--loads",
        type=_bounded(int, 1, 50),
        default=5,
        help="cold loads of each web page, for the median (default 5)",
    )
    parser.add_argument(
        "--subscribers",
        type=_subscriber_counts,
        default=(1000,),
        help="numbers of websocket subscribers to measure, comma-separated (default 1000)",
    )
    parser.add_argument(
        "--ws-deflate",
        choices=("off", "on"),
        default="on" if ApiSettings.model_fields["ws_per_message_deflate"].default else "off",
        help="permessage-deflate on both websocket servers of the fan-out bench (default: as "
        "`englog api`, ENGLOG_WS_PER_MESSAGE_DEFLATE)",
    )
    parser.add_argument(
        "--insights",
        type=_bounded(int, 10, 2000),
        default=200,
        help="insights in each burst, per number of workers (default 200)",
    )
    parser.add_argument(
        "--sequential",
        type=_bounded(int, 5, 1000),
        default=50,
        help="insights requested one at a time, per number of workers (default 50)",
    )
    parser.add_argument(
        "--workers",
        type=_worker_counts,
        default=(1, 4),
        help="numbers of worker processes to measure, comma-separated (default 1,4)",
    )
    return parser.parse_args(argv)


def _worker_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers") from None
    if not counts or not all(1 <= count <= 16 for count in counts):
        raise argparse.ArgumentTypeError("each between 1 and 16")
    return counts


def _subscriber_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers") from None
    if not counts or not all(4 <= count <= 10_000 for count in counts):
        raise argparse.ArgumentTypeError("each between 4 and 10000")
    return counts


def _first_difference(left: Any, right: Any, path: str = "$") -> str | None:
    if type(left) is not type(right):
        return f"{path}: {left!r} != {right!r}"
    if isinstance(left, dict):
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                return f"{path}.{key}: only in {'GraphQL' if key in left else 'baseline'}"
            found = _first_difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} items != {len(right)}"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path}: {left!r} != {right!r}"


def _verify(graphql: httpx.Response, baseline: httpx.Response) -> None:
    """Both servers must answer the very same page, and it must be the full page."""
    for name, response in (("GraphQL", graphql), ("baseline", baseline)):
        if response.status_code != 200:
            raise BenchError(f"{name} answered {response.status_code}: {response.text[:500]}")
    left, right = graphql.json(), baseline.json()
    difference = _first_difference(left, right)
    if difference:
        raise BenchError(f"GraphQL and baseline disagree at {difference}")
    page = left["data"]["logEntries"]
    complete = all(e["node"]["project"] and len(e["node"]["tags"]) == 3 for e in page["edges"])
    if len(page["edges"]) != PAGE_SIZE or not page["pageInfo"]["hasNextPage"] or not complete:
        raise BenchError(f"the page is not the seeded one: {json.dumps(page)[:500]}")


async def _measure(
    args: argparse.Namespace, api: Server, baseline: Server, settings: ApiSettings
) -> tuple[dict[str, Phase], SqlCounts | None]:
    await asyncio.gather(wait_live(api), wait_live(baseline))
    print("Seeding through the API …", flush=True)
    async with httpx.AsyncClient(base_url=api.base_url, timeout=60.0) as client:
        token = (await seed(client)).access_token
        auth = {"Authorization": f"Bearer {token}"}
        graphql_response = await client.post("/graphql", json={"query": PAGE_QUERY}, headers=auth)
    async with httpx.AsyncClient(base_url=baseline.base_url, timeout=60.0) as client:
        baseline_response = await client.get("/entries", params={"first": PAGE_SIZE}, headers=auth)
    _verify(graphql_response, baseline_response)
    print("GraphQL and baseline return identical JSON.", flush=True)
    sql = None if args.no_sql_count else await count_page_sql(settings, token, PAGE_QUERY)

    headers = {**auth, "Accept": "application/json"}
    graphql_request = http_request(
        "POST",
        HOST,
        api.port,
        "/graphql",
        {**headers, "Content-Type": "application/json"},
        json.dumps({"query": PAGE_QUERY}).encode(),
    )
    baseline_request = http_request(
        "GET", HOST, baseline.port, f"/entries?first={PAGE_SIZE}", headers
    )
    # Each load response must equal, byte for byte, the response verified above.
    targets = [
        Target(
            "GraphQL", HOST, api.port, graphql_request, graphql_response.content, api.cpu_seconds
        ),
        Target(
            "baseline",
            HOST,
            baseline.port,
            baseline_request,
            baseline_response.content,
            baseline.cpu_seconds,
        ),
    ]
    phases = {target.name: Phase() for target in targets}
    if args.warmup:
        print(f"Warming up ({args.warmup:g} s each) …", flush=True)
        for target in targets:
            _check(target, await run_phase(target, args.warmup, args.concurrency), api, baseline)
    for round_index in range(args.rounds):
        order = targets if round_index % 2 == 0 else targets[::-1]
        for target in order:
            print(f"Round {round_index + 1}/{args.rounds}: {target.name} …", flush=True)
            phase = await run_phase(target, args.seconds / args.rounds, args.concurrency)
            _check(target, phase, api, baseline)
            phases[target.name].add(phase)
    return phases, sql


def _check(target: Target, phase: Phase, *servers: Server) -> None:
    if phase.errors:
        server = next(s for s in servers if s.port == target.port)
        raise BenchError(
            f"{target.name}: {len(phase.errors)} failed request(s), e.g. {phase.errors[:3]}\n"
            f"server log:\n{server.log_tail()}"
        )


def run_entries(
    args: argparse.Namespace,
    server_url: str,
    redis_url: str,
    sources: tuple[str, str],
    log_dir: Path,
) -> str:
    secret = secrets.token_urlsafe(48)
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(bench_database(server_url))
        env = api_env(database_url, redis_url, secret)
        api = stack.enter_context(uvicorn_server("graphql", "bench.api_app:create", env, log_dir))
        baseline = stack.enter_context(
            uvicorn_server("baseline", "bench.baseline:create", env, log_dir)
        )
        settings = ApiSettings(
            database_url=database_url, redis_url=redis_url, jwt_secret=secret, grpc_port=0
        )
        # The servers run on uvloop (uvicorn's choice); the client does too, to stay light.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            phases, sql = runner.run(_measure(args, api, baseline, settings))
    info = RunInfo(
        postgres=sources[0],
        redis=sources[1],
        entries=ENTRIES,
        page_size=PAGE_SIZE,
        concurrency=args.concurrency,
        seconds=args.seconds,
        rounds=args.rounds,
        warmup=args.warmup,
    )
    return render(info, phases, sql)


def api_env(database_url: str, redis_url: str, secret: str) -> dict[str, str]:
    """What every benchmarked API process is configured with."""
    return {
        # The API serves the worker protocol too; a free port keeps it off anyone else's.
        "ENGLOG_GRPC_PORT": str(free_port()),
        "ENGLOG_DATABASE_URL": database_url,
        "ENGLOG_REDIS_URL": redis_url,
        "ENGLOG_JWT_SECRET": secret,
        # Only seeding sign-ups hash a password; that is not what is measured.
        "ENGLOG_PASSWORD_TIME_COST": "1",
        "ENGLOG_PASSWORD_MEMORY_COST_KIB": "64",
        # Rate limits on (their Redis call is part of every operation's cost), out of the way.
        **{f"ENGLOG_RATE_LIMIT_{name}": "1000000/60" for name in RATE_LIMITED_KINDS},
    }


def run_insights_bench(
    args: argparse.Namespace,
    server_url: str,
    redis_url: str,
    sources: tuple[str, str],
    log_dir: Path,
) -> str:
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(bench_database(server_url, INSIGHTS_DATABASE))
        env = api_env(database_url, redis_url, secrets.token_urlsafe(48))
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            phases, floor = run_insights(
                database_url=database_url,
                env=env,
                log_dir=log_dir,
                runner=runner,
                worker_counts=args.workers,
                count=args.insights,
                sequential=args.sequential,
            )
    info = InsightRun(
        phases=phases,
        floor=floor,
        postgres=sources[0],
        redis=sources[1],
        count=args.insights,
        sequential=args.sequential,
    )
    return render_insights(info)


def run_subscriptions_bench(
    args: argparse.Namespace,
    server_url: str,
    redis_url: str,
    sources: tuple[str, str],
    log_dir: Path,
) -> str:
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(bench_database(server_url, SUBSCRIPTIONS_DATABASE))
        env = api_env(database_url, redis_url, secrets.token_urlsafe(48))
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            phases = run_subscriptions(
                env=env,
                log_dir=log_dir,
                runner=runner,
                counts=args.subscribers,
                deflate=args.ws_deflate == "on",
            )
    return render_subscriptions(phases, sources, deflate=args.ws_deflate == "on")


def run_web_bench(
    args: argparse.Namespace,
    server_url: str,
    redis_url: str,
    sources: tuple[str, str],
    log_dir: Path,
) -> str:
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(bench_database(server_url, WEB_DATABASE))
        env = api_env(database_url, redis_url, secrets.token_urlsafe(48))
        api = stack.enter_context(uvicorn_server("graphql", "bench.api_app:create", env, log_dir))
        floor = stack.enter_context(
            uvicorn_server("floor", "bench.web_baseline:create", env, log_dir)
        )
        pairs = asyncio.run(run_web(api, floor, args.loads))
    return render_web(pairs, sources, args.loads)


def run(args: argparse.Namespace) -> str:
    reports = []
    with contextlib.ExitStack() as stack:
        server_url, postgres_source = stack.enter_context(postgres_server())
        redis_url, redis_source = stack.enter_context(redis_server())
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="englog-bench-")))
        sources = (postgres_source, redis_source)
        if args.only in (None, "entries"):
            reports.append(run_entries(args, server_url, redis_url, sources, log_dir))
        if args.only in (None, "insights"):
            reports.append(run_insights_bench(args, server_url, redis_url, sources, log_dir))
        if args.only == "subscriptions":
            reports.append(run_subscriptions_bench(args, server_url, redis_url, sources, log_dir))
        if args.only == "web":
            reports.append(run_web_bench(args, server_url, redis_url, sources, log_dir))
        if args.only == "export":
            with bench_database(server_url, EXPORT_DATABASE) as database_url:
                api, floor = asyncio.run(run_export(database_url, redis_url))
            reports.append(render_export(api, floor, sources))
    return "\n".join(reports)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        print(run(args), flush=True)
    except BenchError as exc:
        print(f"\nbench failed: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
