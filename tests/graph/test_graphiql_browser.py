"""GraphiQL in a real headless Chromium that reaches nothing but loopback, as on a private
network: the page loads from the API process alone, under its content policy, and its
subscriptions send the token typed in the headers editor."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Page, Request, Route, WebSocket

from graph.static import ASSETS, GRAPHIQL_PAGE
from graph.static.refresh import STRAWBERRY_PAGE, build_page, integrity

# Re-exported: tests/web/test_browser_today.py and _live.py import it from here (the harness
# moved to tests/browser.py; tests/web/support.py re-exports it too).
from tests.browser import chromium as chromium
from tests.factories import Api
from tests.live import WITHIN, Server, live_server

LOOPBACK = "127.0.0.1"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SUBSCRIPTION = 'subscription { logEntryEvents(since: "0") { action entryId } }'
PARSED_SUBSCRIPTION = """() => {
  const editor = document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror;
  return editor.documentAST?.definitions[0]?.operation === "subscription";
}"""
BROWSER_WITHIN = 30.0  # a bound on the browser's waits (loading 3.5 MB of GraphiQL), not a speed


class Watched:
    """What a page asked of the network, said on its console and sent on its websockets."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self.blocked: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        self.sockets: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.event = asyncio.Event()

    async def only_loopback(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https") and url.hostname != LOOPBACK:
            self.blocked.append(route.request.url)
            await route.abort()
        else:
            await route.continue_()

    def on_request(self, request: Request) -> None:
        self.requested.append(request.url)

    def on_websocket(self, socket: WebSocket) -> None:
        self.sockets.append(socket.url)
        socket.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
        socket.on("framereceived", self.on_frame)

    def on_frame(self, payload: str | bytes) -> None:
        message = json.loads(payload)
        if message["type"] != "ping":
            self.received.append(message)
        if message["type"] == "next":
            self.event.set()

    async def watch(self, page: Page) -> None:
        await page.context.route("**/*", self.only_loopback)
        page.on("request", self.on_request)
        page.on("websocket", self.on_websocket)
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(str(error)))


async def replace_text(page: Page, editor: str, text: str) -> None:
    """Types into a CodeMirror editor of GraphiQL's, as a person does."""
    await page.locator(f"{editor} .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(text)
    await page.keyboard.press("Escape")  # closes the completion list the query editor opens


async def editor_text(page: Page, editor: str) -> str:
    text: str = await page.locator(f"{editor} .CodeMirror").evaluate(
        "element => element.CodeMirror.getValue()"
    )
    return text


async def open_graphiql(page: Page, server: Server) -> None:
    await page.goto(f"{server.http_url}/graphql", wait_until="load")
    await page.locator(".graphiql-query-editor .CodeMirror").wait_for(timeout=BROWSER_WITHIN * 1000)


async def test_graphiql_loads_and_subscribes_with_the_headers_editors_token_offline(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
        chromium() as browser,
    ):
        api = Api(http)
        account = await api.sign_up()
        entry = await api.create_entry(account, title="Logged on a private network")
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(BROWSER_WITHIN * 1000)
        watched = Watched()
        await watched.watch(page)

        await open_graphiql(page, server)
        await page.locator(".graphiql-editor-tools button", has_text="Headers").click()
        headers_editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
        await replace_text(
            page, headers_editor, f'{{"Authorization": "Bearer {account.access_token}"}}'
        )
        await replace_text(page, ".graphiql-query-editor", SUBSCRIPTION)
        assert json.loads(await editor_text(page, headers_editor)) == {
            "Authorization": f"Bearer {account.access_token}"
        }
        assert await editor_text(page, ".graphiql-query-editor") == SUBSCRIPTION
        # GraphiQL parses the query a moment after the last key (debounced), and only a
        # parsed subscription goes over the websocket.
        await page.wait_for_function(PARSED_SUBSCRIPTION)
        await page.locator(".graphiql-execute-button").click()
        await asyncio.wait_for(watched.event.wait(), WITHIN)
        await page.locator(".graphiql-response").filter(has_text=entry["id"]).wait_for()
        await page.screenshot(path=tmp_path / "graphiql.png")

    assert watched.blocked == []
    assert {urlsplit(url).hostname for url in watched.requested} == {LOOPBACK}
    assert watched.sockets == [server.ws_url]
    # GraphiQL's toolkit sends the headers editor's headers, as typed, as the payload (and
    # graph/live/ws.py reads the authorization in any case).
    assert watched.sent[0] == {
        "type": "connection_init",
        "payload": {"Authorization": f"Bearer {account.access_token}"},
    }
    [subscribe] = [message for message in watched.sent if message["type"] == "subscribe"]
    assert subscribe["payload"]["query"] == SUBSCRIPTION
    assert watched.received[:2] == [
        {"type": "connection_ack"},
        {
            "id": subscribe["id"],
            "type": "next",
            "payload": {"data": {"logEntryEvents": {"action": "CREATED", "entryId": entry["id"]}}},
        },
    ]
    # A content policy violation is reported on the console; so is any failed load.
    assert [line for line in watched.console if not line.startswith(("log:", "debug:"))] == []
    assert watched.errors == []


async def test_graphiql_page_runs_only_its_own_scripts_under_a_strict_policy(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
    ):
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        loaded = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
        assets = [await http.get(path) for path in loaded]
    assert page.headers["content-security-policy"] == PAGE_CSP
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page.text) == []  # no inline script
    assert re.findall(r"<style", page.text) == []
    assert loaded == [
        "/graphiql/englog/page.css",
        "/graphiql/react@18.2.0/umd/react.production.min.js",
        "/graphiql/react-dom@18.2.0/umd/react-dom.production.min.js",
        "/graphiql/js-cookie@3.0.5/dist/js.cookie.min.js",
        "/graphiql/graphiql@3.8.3/graphiql.min.css",
        "/graphiql/@graphiql/plugin-explorer@1.0.2/dist/style.css",
        "/graphiql/graphiql@3.8.3/graphiql.min.js",
        "/graphiql/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js",
        "/graphiql/englog/page.js",
    ]
    assert [response.status_code for response in assets] == [200] * len(loaded)


def test_vendored_graphiql_is_strawberrys_page_with_its_assets_and_licences() -> None:
    """graph/static/ is generated (`just gen`): stale after a Strawberry upgrade changes the
    page or the versions it names."""
    page = build_page(STRAWBERRY_PAGE.read_text(encoding="utf-8"))
    assert GRAPHIQL_PAGE.read_text(encoding="utf-8") == page.html
    for relative, text in page.files.items():
        assert (ASSETS / relative).read_text(encoding="utf-8") == text
    for asset in page.assets:
        assert integrity((ASSETS / asset.relative).read_bytes()) == asset.integrity, asset
    specs = sorted({asset.spec for asset in page.assets})
    assert specs == [
        "@graphiql/plugin-explorer@1.0.2",
        "graphiql@3.8.3",
        "js-cookie@3.0.5",
        "react-dom@18.2.0",
        "react@18.2.0",
    ]
    licences = [(ASSETS / spec / "LICENSE").read_text(encoding="utf-8") for spec in specs]
    assert [text.count("MIT License\n\nCopyright (c) ") for text in licences] == [1] * 5
