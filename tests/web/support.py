"""What the web app's browser tests share: a page that records every request, socket, console
line and page error, screenshots in one artifact folder, and keyboard steps."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Route,
    WebSocket,
    expect,
)

# The browser itself, re-exported: a web test imports its whole harness from here.
from tests.browser import chromium as chromium
from tests.live import Server

# Kept after the run (look at them): ENGLOG_ARTIFACTS or .englog/artifacts, under web/.
ARTIFACTS = Path(os.environ.get("ENGLOG_ARTIFACTS", ".englog/artifacts")).resolve() / "web"
BROWSER_WITHIN = 30.0  # a bound on the browser's waits, not a speed
EXPECT_WITHIN_MS = 15_000  # an event crosses PostgreSQL and Redis first
PASSWORD = "correct horse battery"  # tests.factories.Api.sign_up's default


@dataclass
class Recorded:
    """Everything the pages of one browser context asked for or said."""

    origin: str
    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def only_the_server(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or _origin(url) == self.origin:
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort()

    def on_request(self, request: Request) -> None:
        self.requested.append(request.url)

    def on_socket(self, socket: WebSocket) -> None:
        self.sockets.append(socket.url)

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    async def watch(self, context: BrowserContext) -> None:
        await context.route("**/*", self.only_the_server)
        context.on("request", self.on_request)
        context.on("page", self.watch_page)

    def watch_page(self, page: Page) -> None:
        page.on("websocket", self.on_socket)
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def other_origins(self) -> list[str]:
        ws_origin = self.origin.replace("http://", "ws://", 1)
        return [url for url in self.requested if _origin(url) != self.origin] + [
            url for url in self.sockets if _origin(url) != ws_origin
        ]

    def problems(self) -> list[str]:
        """Console lines other than logs and debug output (a CSP violation, a failed load)."""
        return [line for line in self.console if not line.startswith(("log:", "debug:"))]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")  # where to look (pytest -s shows it)
    return path


async def type_into_focused(page: Page, text: str, *, then: str | None = "Tab") -> None:
    """Types into whatever has the focus, then presses `then`: a person at the keyboard."""
    await page.keyboard.type(text)
    if then:
        await page.keyboard.press(then)


async def focused_label(page: Page) -> str:
    """The label text of the focused control (what a screen reader would announce)."""
    label: str = await page.evaluate(
        """() => {
          const el = document.activeElement;
          if (el.labels && el.labels.length) return el.labels[0].textContent;
          return el.getAttribute("aria-label") || el.textContent;
        }"""
    )
    return label.strip()


@asynccontextmanager
async def browsing(
    browser: Browser, server: Server, *, width: int = 1280, height: int = 900
) -> AsyncIterator[tuple[BrowserContext, Recorded]]:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, timezone_id="UTC", locale="en-GB"
    )
    context.set_default_timeout(BROWSER_WITHIN * 1000)
    recorded = Recorded(origin=server.http_url)
    await recorded.watch(context)
    try:
        yield context, recorded
    finally:
        await context.close()


async def new_page(context: BrowserContext) -> Page:
    """A tab of the context (Recorded.watch follows every page the context opens)."""
    return await context.new_page()


async def sign_in(page: Page, server: Server, email: str, password: str = PASSWORD) -> None:
    await page.goto(f"{server.http_url}/signin")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_label("Password").press("Enter")
    await expect(page.get_by_role("heading", name="Today")).to_be_visible()
