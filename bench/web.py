"""The web app's first load in Debian's headless Chromium, on loopback, with a cold cache:
what /signin and /today (signed in by the refresh cookie) transfer, how many requests they
make, and the time from navigation start until the screen's first input is enabled and
focused (ready to type: the e-mail field, the Today form's title), median of N loads. For
/today also when the first entry appears, and what it asks of the API on load (GraphQL
requests and websockets; the aim: one refresh, one query, one socket).

The floor, in the same run: the same files (the list each app load fetched) served by a bare
Starlette StaticFiles behind the same gzip (bench/web_baseline.py), fetched all at once by a
page that then focuses an input: the bytes without the module waterfall, the app or the API.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from playwright.async_api import Browser, BrowserContext, CDPSession, Page

from bench.seed import graphql
from bench.services import BenchError, Server, wait_live
from tests.browser import launched, missing_browser

EMAIL = "web-bench@example.com"
PASSWORD = "correct horse battery"
SIGN_UP = """mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken } }"""
CREATE_ENTRIES = """mutation Seed($inputs: [CreateLogEntryInput!]!) {
  createLogEntries(inputs: $inputs) { id }
}"""
LOG_IN = """mutation LogIn($email: String!, $password: String!) {
  logIn(email: $email, password: $password, refreshCookie: true) { expiresIn }
}"""
TODAYS_ENTRIES = 8
OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
WITHIN_MS = 30_000  # a bound on each wait in the browser, not a speed
# Set before any script of the page runs: the moment (ms since navigation start) an enabled
# input first has the focus, and the moment the first entry row is in the document.
PROBE = """
window.__ready = null;
window.__data = null;
document.addEventListener("focusin", (event) => {
  if (window.__ready === null && event.target.matches("input:not([disabled])")) {
    window.__ready = performance.now();
  }
}, true);
new MutationObserver(() => {
  if (window.__data === null && document.querySelector(".entries [data-id]")) {
    window.__data = performance.now();
  }
}).observe(document, { childList: true, subtree: true });
"""


@dataclass
class Load:
    """One cold load of one page, as the Chrome DevTools protocol saw it."""

    requests: list[str] = field(default_factory=list)
    graphql: list[str] = field(default_factory=list)
    sockets: int = 0
    transferred: int = 0  # bytes on the wire, headers included (DevTools' "transferred")
    decoded: int = 0  # bytes of the bodies once decompressed
    ready_ms: float = 0.0
    data_ms: float | None = None


@dataclass
class Row:
    name: str
    loads: list[Load]

    def median(self, value: Callable[[Load], float | None]) -> float | None:
        values = [v for load in self.loads if (v := value(load)) is not None]
        return statistics.median(values) if values else None


async def _watch(page: Page, load: Load) -> CDPSession:
    cdp = await page.context.new_cdp_session(page)
    methods: dict[str, str] = {}

    def sent(event: dict[str, Any]) -> None:
        request = event["request"]
        if event["requestId"] not in methods:  # not a redirect's second leg
            load.requests.append(request["url"])
        methods[event["requestId"]] = request["method"]
        if request["method"] == "POST" and urlsplit(request["url"]).path == "/graphql":
            body = json.loads(request.get("postData") or "{}")
            named = OPERATION.match(body.get("query", ""))
            load.graphql.append(named.group(1) if named else "anonymous")

    def finished(event: dict[str, Any]) -> None:
        load.transferred += int(event["encodedDataLength"])

    def data(event: dict[str, Any]) -> None:
        load.decoded += int(event["dataLength"])

    def socket(_: dict[str, Any]) -> None:
        load.sockets += 1

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.dataReceived", data)
    cdp.on("Network.webSocketCreated", socket)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    return cdp


async def _measure(
    context: BrowserContext, url: str, *, settled: Callable[[Page], Awaitable[None]]
) -> Load:
    page = await context.new_page()
    page.set_default_timeout(WITHIN_MS)
    load = Load()
    cdp = await _watch(page, load)
    try:
        await page.goto(url)
        await page.wait_for_function("() => window.__ready !== null")
        await settled(page)
        await page.wait_for_load_state("networkidle")  # every request of the load answered
        load.ready_ms = float(await page.evaluate("window.__ready"))
        data = await page.evaluate("window.__data")
        load.data_ms = None if data is None else float(data)
    finally:
        await cdp.detach()
        await page.close()
    return load


async def _nothing(_: Page) -> None:
    return None


async def _live(page: Page) -> None:
    await page.locator(".connection", has_text="Live").wait_for()
    await page.locator(".entries [data-id]").first.wait_for()


async def _fresh(browser: Browser) -> BrowserContext:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="UTC", locale="en-GB"
    )
    await context.add_init_script(PROBE)
    return context


async def _seed(api: Server) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    day = now.replace(hour=0)
    inputs = [
        {
            "title": f"Bench entry {n + 1}",
            "type": "CODE",
            "startTime": (day + timedelta(hours=n)).isoformat(),
            "endTime": (day + timedelta(hours=n, minutes=45)).isoformat(),
            "tags": ["bench", f"tag{n}"],
        }
        for n in range(TODAYS_ENTRIES)
    ]
    async with httpx.AsyncClient(base_url=api.base_url, timeout=60.0) as client:
        signed_up = await graphql(
            client,
            SIGN_UP,
            {
                "input": {
                    "email": EMAIL,
                    "password": PASSWORD,
                    "firstName": "Bench",
                    "lastName": "Marker",
                    "timezone": "UTC",
                }
            },
        )
        token = signed_up["signUp"]["accessToken"]
        await graphql(client, CREATE_ENTRIES, {"inputs": inputs}, token)


async def _signed_in(browser: Browser, api: Server) -> BrowserContext:
    """A context holding the refresh cookie (logIn as the app sends it), nothing cached."""
    context = await _fresh(browser)
    answer = await context.request.post(
        f"{api.base_url}/graphql",
        data=json.dumps({"query": LOG_IN, "variables": {"email": EMAIL, "password": PASSWORD}}),
        headers={"Content-Type": "application/json"},
    )
    if not answer.ok or "errors" in await answer.json():
        raise BenchError(f"logIn failed: {await answer.text()}")
    return context


def _assets(load: Load, origin: str) -> list[str]:
    """What a load fetched from the origin, but the document and the API."""
    paths = [urlsplit(url).path for url in load.requests if url.startswith(origin)]
    return [path for path in paths[1:] if path != "/graphql"]


async def run_web(api: Server, baseline: Server, loads: int) -> list[tuple[Row, Row]]:
    reason = missing_browser()
    if reason is not None:
        raise BenchError(reason)
    await wait_live(api)
    await wait_live(baseline)
    await _seed(api)
    pages = (("/signin", False, _nothing), ("/today", True, _live))
    pairs = [(Row(page, []), Row("floor", [])) for page, _, _ in pages]
    async with launched() as browser:
        for _ in range(loads):
            for (page, signed_in, settled), (app, floor) in zip(pages, pairs, strict=True):
                context = await (_signed_in(browser, api) if signed_in else _fresh(browser))
                try:
                    load = await _measure(context, f"{api.base_url}{page}", settled=settled)
                finally:
                    await context.close()
                app.loads.append(load)
                paths = quote(json.dumps(_assets(load, api.base_url)))
                context = await _fresh(browser)
                try:
                    url = f"{baseline.base_url}/floor/#{paths}"
                    floor.loads.append(await _measure(context, url, settled=_nothing))
                finally:
                    await context.close()
    return pairs


def _kib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1024:.1f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _line(row: Row) -> str:
    return (
        f"{row.name:<10}{_ms(row.median(lambda load: len(load.requests))):>9}"
        f"{_ms(row.median(lambda load: len(load.graphql))):>9}"
        f"{_ms(row.median(lambda load: load.sockets)):>9}"
        f"{_kib(row.median(lambda load: load.transferred)):>10}"
        f"{_kib(row.median(lambda load: load.decoded)):>9}"
        f"{_ms(row.median(lambda load: load.ready_ms)):>10}"
        f"{_ms(row.median(lambda load: load.data_ms)):>9}"
    )


def render_web(pairs: list[tuple[Row, Row]], sources: tuple[str, str], loads: int) -> str:
    lines = [
        "",
        f"EngLog bench: the web app's first load in headless Chromium on loopback, cold cache, "
        f"median of {loads} load(s)",
        f"PostgreSQL: {sources[0]} · Redis: {sources[1]} · floor: the same files from a bare "
        "Starlette StaticFiles (same gzip), fetched at once by a page with no app",
        "",
        f"{'page':<10}{'requests':>9}{'GraphQL':>9}{'sockets':>9}{'KiB sent':>10}"
        f"{'KiB raw':>9}{'ready ms':>10}{'data ms':>9}",
    ]
    for app, floor in pairs:
        lines += [_line(app), _line(floor)]
    lines.append("")
    for app, floor in pairs:
        ready, floor_ready = (row.median(lambda load: load.ready_ms) for row in (app, floor))
        if ready and floor_ready:
            lines.append(
                f"ratio {app.name} ready / its floor: {ready / floor_ready:.2f}; "
                f"GraphQL on load: {', '.join(app.loads[-1].graphql) or 'none'}"
            )
    lines.append(
        "KiB sent: bytes on the wire, headers included (DevTools' transferred); raw: decoded "
        "bodies. ready: navigation start → an enabled input has the focus (the e-mail field; "
        "the Today form's title); data: → the first entry is in the list. Each floor row "
        "fetches the files of the app row above it."
    )
    return "\n".join(lines)
