"""Revoked sessions, so an access token dies with its session, not only at its expiry.

An access token carries its session's family id (`fam`, the same as its refresh tokens').
PostgreSQL is the record: a family is revoked when none of its refresh tokens is live
(logOut, reuse detection and password changes revoke them all in one transaction), or when
its account was deleted (`ended_session` keeps those, since the cascade takes the tokens).
Redis holds the recently revoked families, each for one access-token lifetime (a token issued
before the revocation cannot outlive that), so a request costs one Redis round trip:

- `englog:revoked:<family>`: set after the revocation commits;
- `englog:denylist:loaded`: says Redis has them all. When it is missing (Redis flushed or
  restarted empty), the families revoked within the last access-token lifetime are loaded
  again from PostgreSQL before anyone is answered: a flush resurrects nothing.

Redis's copy is only trusted while nothing says it may be behind PostgreSQL's:

- a revocation whose Redis write failed stays pending in this process, and this process
  stops trusting Redis;
- so does any Redis fault of a look-up (a revocation elsewhere may have failed to reach
  Redis meanwhile);
- an untrusted Redis is asked nothing: PostgreSQL answers, and at most once a second this
  process tries to rebuild Redis's copy (every family revoked within the last access-token
  lifetime, its own pending ones included) and trusts it again once that succeeded;
- every process rebuilds at start and every `resync_seconds` (30 s) as well, which covers a
  process that died with revocations Redis never got while the others saw no fault.

When neither Redis nor PostgreSQL can answer, the caller refuses (graph/context.py): a
security check never fails open.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from db.models import EndedSession, RefreshToken
from graph.auth.tokens import Claims
from graph.redis_faults import REDIS_FAULTS

logger = logging.getLogger("englog.auth")

PREFIX = "englog:revoked:"
LOADED = "englog:denylist:loaded"
RESYNC_SECONDS = 30.0  # a full rebuild at least this often, whatever happened
RETRY_SECONDS = 1.0  # an untrusted Redis is tried again no sooner than this


class Denylist:
    def __init__(
        self,
        redis: Redis,
        db: async_sessionmaker[AsyncSession],
        *,
        access_ttl: timedelta,
        resync_seconds: float = RESYNC_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.db = db
        self.ttl = max(1, int(access_ttl.total_seconds()))
        self.resync_seconds = resync_seconds
        self.clock = clock
        # Revoked here, not yet in Redis: written by the next rebuild.
        self.pending: set[uuid.UUID] = set()
        # A Redis fault was seen since the last rebuild: Redis's copy may be behind.
        self.suspect = False
        self._rebuild_at = 0.0  # the periodic rebuild is due then (at once, at start)
        self._next_try = 0.0
        self._rebuilding: asyncio.Future[bool] | None = None

    def distrust(self) -> None:
        self.suspect = True

    async def _check_trust(self) -> bool:
        """Whether Redis's copy may answer, rebuilding it first when that is due."""
        if self.suspect:
            return await self.rebuild()
        if self.clock() >= self._rebuild_at:
            try:
                await self.rebuild()
            except Exception as exc:
                # PostgreSQL is away: nothing says Redis is behind, so it goes on answering.
                self._next_try = self.clock() + RETRY_SECONDS
                logger.warning("periodic denylist rebuild failed (%r)", exc)
        return True

    async def revoke(self, families: Iterable[uuid.UUID]) -> None:
        """Denies these families' access tokens: call after the transaction revoking their
        refresh tokens (PostgreSQL's record) has committed."""
        new = set(families)
        if not new:
            return
        self.pending |= new
        try:
            await self._write(new)
        except REDIS_FAULTS as exc:  # PostgreSQL has it; this process stops trusting Redis
            self.distrust()
            logger.warning("revocation not cached in Redis (%s); PostgreSQL answers", exc)
            return
        self.pending -= new

    async def is_revoked(self, claims: Claims) -> bool:
        family = claims.family_id
        return family is not None and family in await self.revoked_families([family])

    async def revoked_families(self, families: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these sessions are revoked, in one look-up (Redis's, or PostgreSQL's when
        Redis cannot be trusted)."""
        ordered = list(families)
        if not ordered:
            return set()
        if not await self._check_trust():
            return await self._revoked_in_database(ordered)
        keys = [PREFIX + str(family) for family in ordered]
        try:
            loaded, *values = await self.redis.mget([LOADED, *keys])
            if loaded is None:  # flushed, or restarted empty: rebuilt before anyone is answered
                self.distrust()
                if not await self.rebuild():
                    return await self._revoked_in_database(ordered)
                values = await self.redis.mget(keys)
        except REDIS_FAULTS as exc:
            self.distrust()
            logger.warning("denylist not in Redis (%s); asking PostgreSQL", exc)
            return await self._revoked_in_database(ordered)
        return {family for family, value in zip(ordered, values, strict=True) if value is not None}

    async def rebuild(self) -> bool:
        """Writes every recently revoked family to Redis; whether Redis is trusted after it.
        Concurrent callers share one rebuild; a failed one is not tried again within
        RETRY_SECONDS (PostgreSQL answers meanwhile)."""
        if self._rebuilding is not None:
            return await asyncio.shield(self._rebuilding)
        if self.clock() < self._next_try:
            return False
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._rebuilding = future
        try:
            ok = await self._rebuild()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a rebuild nobody else awaited is not "unhandled"
            raise
        else:
            future.set_result(ok)
        finally:
            self._rebuilding = None
        return ok

    async def _rebuild(self) -> bool:
        started = self.clock()
        pending = set(self.pending)
        families = await self._recently_revoked() | pending
        try:
            await self._write(families, loaded=True)
        except REDIS_FAULTS as exc:
            self._next_try = self.clock() + RETRY_SECONDS
            logger.info("denylist not rebuilt in Redis (%s); PostgreSQL answers", exc)
            return False
        self.pending -= pending
        self.suspect = False
        self._rebuild_at = started + self.resync_seconds
        logger.debug("denylist rebuilt in Redis from PostgreSQL: %d families", len(families))
        return True

    async def _write(self, families: Collection[uuid.UUID], *, loaded: bool = False) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for family in families:
                pipe.set(PREFIX + str(family), 1, ex=self.ttl)
            if loaded:
                pipe.set(LOADED, 1)
            await pipe.execute()

    async def _revoked_in_database(self, families: list[uuid.UUID]) -> set[uuid.UUID]:
        # A family with no live refresh token is revoked, a deleted account's included (its
        # rows are gone).
        live = sa.select(col(RefreshToken.family_id)).where(
            col(RefreshToken.family_id).in_(families), col(RefreshToken.revoked_at).is_(None)
        )
        async with self.db() as session:
            alive = set((await session.scalars(live)).all())
        return set(families) - alive

    async def _recently_revoked(self) -> set[uuid.UUID]:
        since = datetime.now(UTC) - timedelta(seconds=self.ttl)
        live = sa.select(col(RefreshToken.family_id)).where(col(RefreshToken.revoked_at).is_(None))
        revoked = (
            sa.select(col(RefreshToken.family_id))
            .where(col(RefreshToken.revoked_at) >= since)
            .where(col(RefreshToken.family_id).not_in(live))
        )
        deleted = sa.select(col(EndedSession.family_id)).where(col(EndedSession.ended_at) >= since)
        async with self.db() as session:
            return set((await session.scalars(sa.union(revoked, deleted))).all())
