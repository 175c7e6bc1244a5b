"""A download's database session: opened with one snapshot, held while its chunks are read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.auth.account import then_finally

Produce = Callable[[AsyncSession], Awaitable[AsyncGenerator[bytes, None]]]


async def held_session(
    db: async_sessionmaker[AsyncSession], produce: Produce
) -> AsyncGenerator[bytes, None]:
    """The chunks `produce` makes of a session in one REPEATABLE READ transaction (one
    snapshot): it may refuse (an AppError) before any chunk. The session closes when the
    chunks end or are closed (a download cut off)."""
    session = db()
    try:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        chunks = await produce(session)
    except BaseException:
        await asyncio.shield(session.close())
        raise
    return then_finally(chunks, lambda: asyncio.shield(session.close()))
