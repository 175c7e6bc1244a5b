from __future__ import annotations

import strawberry

from db.queries import user as users
from graph.auth.types import User
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
