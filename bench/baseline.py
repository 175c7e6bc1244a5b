"""The floor: the logEntries page with project and tags, in plain Starlette + asyncpg.

Same token check (python-jose, HS256 pinned, access tokens only), the same three queries the
API's resolvers and DataLoaders run, the same cursors and the same JSON as the GraphQL
response. It is what a hand-written endpoint costs, so the API is measured against it.
"""

from __future__ import annotations

import gc
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

# asyncpg ships no type information; the ignore stays quiet once the project types it.
import asyncpg  # type: ignore[import-untyped,unused-ignore]
from jose import JWTError, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from db.engine import asyncpg_dsn
from graph.pagination import encode_cursor

ALGORITHM = "HS256"
MAX_PAGE = 100

PAGE_SQL = """
SELECT id, title, type, start_time, end_time, duration_minutes, value_rating, impact_level,
       project_id
FROM log_entry
WHERE user_id = $1
ORDER BY start_time DESC, id DESC
LIMIT $2
"""

PROJECTS_SQL = "SELECT id, name FROM project WHERE id = ANY($1::uuid[]) AND user_id = $2"

TAGS_SQL = """
SELECT lt.entry_id, t.id, t.name
FROM log_entry_tag AS lt
JOIN tag AS t ON t.id = lt.tag_id
WHERE lt.entry_id = ANY($1::uuid[]) AND t.user_id = $2
ORDER BY lower(t.name)
"""


def _json(body: dict[str, Any], status: int = 200) -> Response:
    # Serialised exactly as graph/http.py does, so both servers write the same bytes.
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(text, status_code=status, media_type="application/json")


def _user_id(request: Request, secret: str) -> uuid.UUID | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = jwt.decode(
            token.strip(),
            secret,
            algorithms=[ALGORITHM],
            options={"require_exp": True, "require_sub": True, "require_jti": True},
        )
    except JWTError:
        return None
    if claims.get("typ") != "access":
        return None
    try:
        return uuid.UUID(str(claims["sub"]))
    except (KeyError, ValueError):
        return None


def _page_size(request: Request) -> int | None:
    try:
        first = int(request.query_params.get("first", "20"))
    except ValueError:
        return None
    return first if 1 <= first <= MAX_PAGE else None


def _connection(rows: list[Any], projects: dict[Any, Any], tags: dict[Any, Any], more: bool) -> Any:
    edges = [
        {
            "cursor": encode_cursor(row["start_time"], row["id"]),
            "node": {
                "id": str(row["id"]),
                "title": row["title"],
                "type": row["type"],
                "startTime": row["start_time"].isoformat(),
                "endTime": row["end_time"].isoformat(),
                "durationMinutes": row["duration_minutes"],
                "valueRating": row["value_rating"],
                "impactLevel": row["impact_level"],
                "project": projects.get(row["project_id"]),
                "tags": tags.get(row["id"], []),
            },
        }
        for row in rows
    ]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": more,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def create() -> Starlette:
    """The baseline app (a uvicorn factory); reads ENGLOG_DATABASE_URL and ENGLOG_JWT_SECRET."""
    database_url = os.environ["ENGLOG_DATABASE_URL"]
    secret = os.environ["ENGLOG_JWT_SECRET"]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Any]]:
        # Sized like the API's SQLAlchemy pool (pool_size 10, max_overflow 10).
        pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=10, max_size=20)
        try:
            yield {"pool": pool}
        finally:
            await pool.close()

    async def entries(request: Request) -> Response:
        user_id = _user_id(request, secret)
        if user_id is None:
            return _json({"errors": [{"message": "Unauthenticated"}]}, 401)
        first = _page_size(request)
        if first is None:
            return _json({"errors": [{"message": f"first must be 1 to {MAX_PAGE}"}]}, 400)
        projects: dict[Any, Any] = {}
        tags: dict[Any, list[dict[str, str]]] = {}
        async with request.state.pool.acquire() as connection:
            rows = await connection.fetch(PAGE_SQL, user_id, first + 1)
            page = rows[:first]
            project_ids = list({row["project_id"] for row in page if row["project_id"]})
            if project_ids:
                for project in await connection.fetch(PROJECTS_SQL, project_ids, user_id):
                    projects[project["id"]] = {"id": str(project["id"]), "name": project["name"]}
            if page:
                entry_ids = [row["id"] for row in page]
                for tag in await connection.fetch(TAGS_SQL, entry_ids, user_id):
                    tags.setdefault(tag["entry_id"], []).append(
                        {"id": str(tag["id"]), "name": tag["name"]}
                    )
        connection_body = _connection(page, projects, tags, len(rows) > first)
        return _json({"data": {"logEntries": connection_body}})

    async def live(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    routes = [Route("/entries", entries), Route("/live", live)]
    app = Starlette(routes=routes, lifespan=lifespan)
    # The API freezes its start-up heap (graph/app.py); the floor does the same, to stay fair.
    gc.collect()
    gc.freeze()
    return app
