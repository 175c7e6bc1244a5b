from __future__ import annotations

import strawberry

from graph.access_tokens import service
from graph.access_tokens.types import AccessToken
from graph.context import Info


@strawberry.type
class AccessTokenQuery:
    @strawberry.field(
        description="The signed-in user's personal access tokens (expired ones included, "
        f"until revoked), newest first; at most {service.MAX_TOKENS_PER_USER}. Never their "
        "secrets."
    )
    async def access_tokens(self, info: Info) -> list[AccessToken]:
        rows = await service.list_tokens(info.context.db, user_id=info.context.user_id())
        return [AccessToken.from_model(row) for row in rows]
