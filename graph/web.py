"""The web app (web/) served at `/`, by the API process itself, same origin as /graphql.

Files are served as they are in web/ (native ES modules, no build step; third-party ones are
vendored under web/vendor/ by englog/vendor_web.py). A path that names no file and has no
extension is a route of the app (history routing: /today, /signin …) and answers index.html,
so a reload or a bookmark of any screen works; a missing *file* (`/js/nope.js`) is a plain 404,
so a broken import fails loudly instead of parsing HTML as JavaScript.

Every answer carries the app's content policy: scripts, styles and connections from this
origin only ('self' covers the same-origin ws:// and wss:// in every current browser; the
browser test opens the app's websocket under it), no inline script or style, no plugins, no
<base>, never framed, forms submitted by script only. Text assets are gzipped (the API has
no compression middleware of its own: GraphQL answers stay as they are).
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

# An installed EngLog (a wheel, the image) carries web/ inside the package (pyproject.toml
# force-includes it as graph/webapp); a clone serves its web/ as it is, edits live.
PACKAGED_WEB = Path(__file__).resolve().parent / "webapp"
WEB = PACKAGED_WEB if PACKAGED_WEB.is_dir() else Path(__file__).resolve().parent.parent / "web"
INDEX = "index.html"
CSP = (
    "default-src 'self'; connect-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Not left to the platform's mimetypes table: a module script with another type is refused.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
# Revalidated on every load (ETag / Last-Modified answer 304): the files' names carry no
# version, and an upgraded server must never mix old and new modules.
HEADERS = {"content-security-policy": CSP, "cache-control": "no-cache"}
GZIP_MINIMUM_BYTES = 512


class WebApp:
    """GET and HEAD of the files under `root`, else index.html for the app's routes."""

    def __init__(self, root: Path = WEB) -> None:
        self.root = root.resolve()

    def _file(self, path: str) -> Path | None:
        relative = path.lstrip("/") or INDEX
        if any(part in ("", ".", "..") or part.startswith(".") for part in relative.split("/")):
            return None  # no dot-files, no climbing out (Starlette normalises, this insists)
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        if candidate.suffix not in MEDIA_TYPES:
            return None
        return candidate

    def response(self, path: str, if_none_match: str | None = None) -> Response:
        found = self._file(path)
        if found is None and "." not in path.rsplit("/", 1)[-1]:
            found = self.root / INDEX  # a route of the app
        if found is None or not found.is_file():
            return PlainTextResponse("Not Found", status_code=404, headers=HEADERS)
        answer = FileResponse(
            found, media_type=MEDIA_TYPES[found.suffix], headers=HEADERS, stat_result=found.stat()
        )
        if if_none_match is not None and if_none_match == answer.headers.get("etag"):
            return Response(status_code=304, headers={**HEADERS, "etag": if_none_match})
        return answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no socket lives here (the API's is /graphql)
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            answer: Response = PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={**HEADERS, "allow": "GET, HEAD"}
            )
        else:
            root_path = scope.get("root_path", "")
            path = scope["path"]
            path = path[len(root_path) :] if root_path and path.startswith(root_path) else path
            answer = self.response(path, Headers(scope=scope).get("if-none-match"))
        await answer(scope, receive, send)


def web_mount(root: Path = WEB) -> Mount:
    """The app at `/`: mounted after every other route, so those win."""
    app: ASGIApp = GZipMiddleware(WebApp(root), minimum_size=GZIP_MINIMUM_BYTES)
    return Mount("/", app=app, name="web")
