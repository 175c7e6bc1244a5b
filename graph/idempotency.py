"""Idempotency keys of the mutations that create things: a retry answers the first result.

A client whose answer was lost (a timeout, a dropped connection) cannot know whether its
mutation ran. With the same `idempotencyKey` and the same arguments, a retry within 24 hours
answers the objects the first created (the same ids, as they are now) and writes nothing;
the same key with other arguments is a client's bug, answered CONFLICT. Keys are per user.

The key is an argument, not an `Idempotency-Key` header: a GraphQL request may hold several
mutations (and a batch several operations), each needing its own key, and websockets have
no per-operation headers; an argument is in the schema, described and typed like the rest.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db.queries import idempotency
from graph.errors import BadUserInput, Conflict, NotFound

MAX_KEY_LENGTH = 100
FIELD = "idempotencyKey"

IdempotencyKeyArgument = Annotated[
    str | None,
    strawberry.argument(
        description="Makes a retry safe: the same key with the same arguments within 24 "
        "hours answers what the first request created (the same ids) and creates nothing "
        "again; with other arguments, CONFLICT. 1 to 100 printable ASCII characters, e.g. a "
        "UUID; keys are per user."
    ),
]


def parse_key(key: str | None) -> str | None:
    """The key, checked; BAD_USER_INPUT unless it is 1 to 100 printable ASCII characters."""
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise BadUserInput({FIELD: f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"})
    return key


def _plain(value: Any) -> Any:
    """Arguments as JSON: input objects as their fields, enums as their values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)  # UNSET and the like: stable, and distinct from any sent value


def request_hash(operation: str, arguments: object) -> str:
    text = json.dumps([operation, _plain(arguments)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def replayed_ids(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    key: str | None,
    operation: str,
    arguments: object,
    now: datetime | None = None,
) -> list[uuid.UUID] | None:
    """What an earlier use of the key created, or None: then this request has the key (if
    any) and must `remember` what it creates, in the same transaction. Call it first in it."""
    if key is None:
        return None
    digest = request_hash(operation, arguments)
    earlier = await idempotency.claim_key(
        session,
        user_id=user_id,
        key=key,
        operation=operation,
        request_hash=digest,
        now=now or datetime.now(UTC),
    )
    if earlier is None:
        return None
    if earlier.request_hash != digest or earlier.result is None:
        raise Conflict(
            "This idempotency key was used with another request",
            {FIELD: "was used with another request"},
        )
    return [uuid.UUID(object_id) for object_id in earlier.result]


async def remember(
    session: AsyncSession, *, user_id: uuid.UUID, key: str | None, ids: Sequence[uuid.UUID]
) -> None:
    """Stores the ids this request created under its key (when it has one)."""
    if key is not None:
        await idempotency.record_result(session, user_id=user_id, key=key, ids=ids)


def gone(what: str) -> NotFound:
    """The answer to a replay whose objects were deleted since the first request."""
    return NotFound(what, {FIELD: "what this key created has been deleted"})


T = TypeVar("T")


async def replay(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    key: str | None,
    operation: str,
    arguments: object,
    load: Callable[[list[uuid.UUID]], Awaitable[T | None]],
    what: str,
) -> T | None:
    """What an earlier use of the key created, loaded (NOT_FOUND if deleted since), or None:
    then the caller creates and `remember`s, in this transaction. Call it first in it."""
    ids = await replayed_ids(
        session, user_id=user_id, key=key, operation=operation, arguments=arguments
    )
    if ids is None:
        return None
    earlier = await load(ids)
    if earlier is None:
        raise gone(what)
    return earlier
