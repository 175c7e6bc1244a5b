from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from db.models.access_token import MAX_TOKEN_NAME
from graph import validation as check
from graph.access_tokens import service
from graph.access_tokens.types import AccessToken, CreateAccessTokenInput, CreatedAccessToken
from graph.context import Info
from graph.errors import FieldErrors


def _scopes(errors: FieldErrors, values: list[str]) -> list[str]:
    """Distinct, in a fixed order; at least one."""
    scopes = [scope for scope in (service.READ, service.WRITE) if scope in values]
    if not scopes:
        errors.add("scopes", "must name at least one scope")
    return scopes


@strawberry.type
class AccessTokenMutation:
    @strawberry.mutation(
        description="Create a personal access token for scripts. The answer carries its "
        "secret, the only time it is shown. Refused (FORBIDDEN) when the caller is itself a "
        f"personal token. At most {service.MAX_TOKENS_PER_USER} an account (CONFLICT on "
        "`name`)."
    )
    async def create_access_token(
        self, info: Info, input: CreateAccessTokenInput
    ) -> CreatedAccessToken:
        context = info.context
        user_id = context.user_id()
        errors = FieldErrors()
        name = check.text(errors, "name", input.name, max_len=MAX_TOKEN_NAME)
        scopes = _scopes(errors, [str(scope.value) for scope in input.scopes])
        expires_at = check.instant(errors, "expiresAt", input.expires_at)
        if expires_at is not None and expires_at <= datetime.now(UTC):
            errors.add("expiresAt", "must be in the future")
        errors.raise_if_any()
        assert name is not None
        token, row = await service.create_token(
            context.db, user_id=user_id, name=name, scopes=scopes, expires_at=expires_at
        )
        return CreatedAccessToken(token=token, access_token=AccessToken.from_model(row))

    @strawberry.mutation(
        description="Revoke one of the signed-in user's personal access tokens: the next "
        "request with it is refused, and a websocket opened with it closes at its next "
        "check. NOT_FOUND on `id` for an id that is not a token of this account. Refused "
        "(FORBIDDEN) when the caller is a personal token."
    )
    async def revoke_access_token(self, info: Info, id: strawberry.ID) -> bool:
        context = info.context
        user_id = context.user_id()
        await service.revoke_token(context.db, user_id=user_id, token_id=check.parse_uuid(id))
        return True
