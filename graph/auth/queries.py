from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from db.queries import user as users
from graph.auth import account, sessions
from graph.auth.types import Session, User
from graph.context import Info
from graph.errors import Unauthenticated


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: Info) -> User:
        user_id = info.context.user_id()
        async with info.context.db() as session:
            row = await users.get_user(session, user_id=user_id)
        if row is None:
            raise Unauthenticated("The account of this token no longer exists")
        return User.from_model(row)

    @strawberry.field(
        description="Everything stored about the signed-in user, as one JSON document read "
        "from one snapshot: the account (without its password hash), projects, tags, log "
        "entries and their tags, insights, tasks (without the queue's internals), change "
        "events and sessions. Keys are the database's column names; `format` names the "
        "document's version. Deprecated: download the same document, streamed and for "
        "accounts of any size, with `GET /export` (`Authorization: Bearer <accessToken>`). "
        f"This field answers accounts of at most {account.MAX_QUERY_ROWS} rows and "
        "LIMIT_EXCEEDED beyond; both count against the same export rate limit.",
        deprecation_reason="Use `GET /export`: streamed, and for accounts of any size.",
    )
    async def export_my_data(self, info: Info) -> JSON:
        user_id = info.context.user_id()
        await info.context.state.limiter.export(user_id, info.context)
        data = await account.export_account(info.context.db, user_id=user_id)
        return JSON(data)

    @strawberry.field(
        description="The signed-in user's sessions (logins not yet ended or expired): this "
        f"one first, then the most recently used; at most {sessions.MAX_LISTED}."
    )
    async def sessions(self, info: Info) -> list[Session]:
        context = info.context
        user_id = context.user_id()
        current = sessions.current_family(context)
        rows = await sessions.list_sessions(context.db, user_id=user_id, current=current)
        return [Session.from_row(row, current=row.family_id == current) for row in rows]
