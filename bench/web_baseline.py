"""The web bench's floor: the very files of web/ served by a bare Starlette StaticFiles behind
the same gzip, and one page that fetches a given list of them (all at once: no module
waterfall, no app, no API) and then focuses an input.

`/floor/#<JSON list of paths>`: the list rides in the fragment, never sent to the server.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graph.web import GZIP_MINIMUM_BYTES, WEB

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>floor</title>
<script type="module" src="/floor/floor.js"></script></head>
<body><label>Ready <input id="ready" disabled></label></body></html>
"""
SCRIPT = """const paths = JSON.parse(decodeURIComponent(location.hash.slice(1)));
await Promise.all(paths.map((path) => fetch(path).then((response) => response.arrayBuffer())));
const input = document.getElementById("ready");
input.disabled = false;
input.focus();
"""


async def live(_: object) -> Response:
    return PlainTextResponse("ok")  # what bench.services.wait_live asks


async def page(_: object) -> Response:
    return HTMLResponse(PAGE)


async def script(_: object) -> Response:
    return Response(SCRIPT, media_type="text/javascript")


def create() -> Starlette:
    return Starlette(
        routes=[
            Route("/live", live),
            Route("/floor/", page),
            Route("/floor/floor.js", script),
            Mount("/", app=StaticFiles(directory=WEB)),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)],
    )
