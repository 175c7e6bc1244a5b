"""Engines and session factories; built by the app's lifespan, never at import time."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def sqlalchemy_url(url: str) -> str:
    """The asyncpg flavour of a postgresql:// URL (the form users and pgserver give)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """The plain postgresql:// form asyncpg.connect() takes."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


# With PostgreSQL away, a request must fail fast with SERVICE_UNAVAILABLE rather than wait
# out the request timeout: a connect that gets no answer (a host that is down drops the
# packets) gives up after CONNECT_TIMEOUT (asyncpg's default is 60 s), and a checkout waits
# at most POOL_TIMEOUT for a pooled connection (SQLAlchemy's default is 30 s, the whole
# request budget). A refused connect fails at once either way.
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 10.0


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=POOL_TIMEOUT,
        # A pooled connection the server dropped meanwhile is replaced on checkout, so the
        # first request after PostgreSQL comes back succeeds: recovery needs no restart.
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
