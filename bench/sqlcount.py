"""How much database work one GraphQL page costs, counted with SQLAlchemy events.

Counted in this process on an app of its own (same settings, same database), so the server
under load carries no instrumentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from bench.services import BenchError
from graph.app import create_app
from graph.settings import ApiSettings

# db/engine.py sets pool_pre_ping; SQLAlchemy's asyncpg dialect pings outside a transaction as
# BEGIN, ";", ROLLBACK (sqlalchemy/dialects/postgresql/asyncpg.py, _async_ping), below the
# events counted here.
PING_ROUND_TRIPS = 3


@dataclass
class SqlCounts:
    statements: int = 0
    checkouts: int = 0
    begins: int = 0
    rollbacks: int = 0
    commits: int = 0

    def round_trips(self) -> int:
        """Statements, their BEGIN/ROLLBACK/COMMIT, and the pool's pre-ping on each checkout."""
        transactions = self.begins + self.rollbacks + self.commits
        return self.statements + transactions + PING_ROUND_TRIPS * self.checkouts


async def count_page_sql(settings: ApiSettings, token: str, query: str) -> SqlCounts:
    """Database work of the second identical request (the first also opens the pool)."""
    counts = [SqlCounts()]

    def bump(name: str) -> Any:
        def listener(*_: Any, **__: Any) -> None:
            setattr(counts[-1], name, getattr(counts[-1], name) + 1)

        return listener

    listeners: list[tuple[type[Any], str, Any]] = [
        (Engine, "before_cursor_execute", bump("statements")),
        (Engine, "begin", bump("begins")),
        (Engine, "rollback", bump("rollbacks")),
        (Engine, "commit", bump("commits")),
        (Pool, "checkout", bump("checkouts")),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                headers = {"Authorization": f"Bearer {token}"}
                for _ in range(2):
                    counts.append(SqlCounts())
                    response = await client.post("/graphql", json={"query": query}, headers=headers)
                    if response.status_code != 200 or "errors" in response.json():
                        raise BenchError(f"counting request failed: {response.text[:500]}")
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
    return counts[-1]
