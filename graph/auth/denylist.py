"""Revoked sessions, so an access token dies with its session, not only at its expiry.

An access token carries its session's family id (`fam`, the same as its refresh tokens').
PostgreSQL is the record: a family is revoked when none of its refresh tokens is live
(logOut, reuse detection and password changes revoke them all in one transaction). Redis
holds the recently revoked families, each for one access-token lifetime (a token issued
before the revocation cannot outlive that), so a request costs one Redis round trip:

- `englog:revoked:<family>`: set after the revocation commits;
- `englog:denylist:loaded`: says Redis has them all. When it is missing (Redis flushed or
  restarted empty), the families revoked within the last access-token lifetime are loaded
  again from PostgreSQL before anyone is answered: a flush resurrects nothing.

When Redis cannot be asked, PostgreSQL is: slower, never wrong.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from db.models import RefreshToken
from graph.auth.tokens import Claims

logger = logging.getLogger("englog.auth")

PREFIX = "englog:revoked:"
LOADED = "englog:denylist:loaded"


class Denylist:
    def __init__(
        self, redis: Redis, db: async_sessionmaker[AsyncSession], *, access_ttl: timedelta
    ) -> None:
        self.redis = redis
        self.db = db
        self.ttl = max(1, int(access_ttl.total_seconds()))

    async def revoked(self, families: Iterable[uuid.UUID]) -> None:
        """Call after the transaction revoking these families has committed."""
        keys = [PREFIX + str(family) for family in families]
        if not keys:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, 1, ex=self.ttl)
                await pipe.execute()
        except (RedisError, OSError) as exc:  # PostgreSQL has it: checks fall back to it
            logger.warning("revocation not cached in Redis (%s); PostgreSQL answers", exc)

    async def is_revoked(self, claims: Claims) -> bool:
        family = claims.family_id
        return family is not None and family in await self.revoked_families([family])

    async def revoked_families(self, families: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these sessions are revoked, in one look-up."""
        ordered = list(families)
        if not ordered:
            return set()
        keys = [PREFIX + str(family) for family in ordered]
        try:
            loaded, *values = await self.redis.mget([LOADED, *keys])
            if loaded is None:
                await self._load()
                values = await self.redis.mget(keys)
        except (RedisError, OSError) as exc:
            logger.warning("denylist not in Redis (%s); asking PostgreSQL", exc)
            return await self._revoked_families_in_database(ordered)
        return {family for family, value in zip(ordered, values, strict=True) if value is not None}

    async def _revoked_families_in_database(self, families: list[uuid.UUID]) -> set[uuid.UUID]:
        live = sa.select(col(RefreshToken.family_id)).where(
            col(RefreshToken.family_id).in_(families), col(RefreshToken.revoked_at).is_(None)
        )
        async with self.db() as session:
            alive = set((await session.scalars(live)).all())
        return set(families) - alive

    async def _load(self) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self.ttl)
        live = sa.select(col(RefreshToken.family_id)).where(col(RefreshToken.revoked_at).is_(None))
        query = (
            sa.select(col(RefreshToken.family_id))
            .where(col(RefreshToken.revoked_at) >= since)
            .where(col(RefreshToken.family_id).not_in(live))
            .distinct()
        )
        async with self.db() as session:
            families = list((await session.scalars(query)).all())
        await self.revoked(families)
        await self.redis.set(LOADED, 1)
        logger.info("denylist loaded into Redis from PostgreSQL: %d families", len(families))
