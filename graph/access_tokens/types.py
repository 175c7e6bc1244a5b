from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from db.models import AccessToken as AccessTokenRow
from db.models.access_token import MAX_TOKEN_NAME


@strawberry.enum(description="What a personal access token may do.")
class TokenScope(Enum):
    READ = strawberry.enum_value("read", description="Run queries and subscriptions.")
    WRITE = strawberry.enum_value(
        "write", description="Run mutations too (the account-security ones excepted)."
    )


@strawberry.input(description="A new personal access token, for a script or a git hook.")
class CreateAccessTokenInput:
    name: str = strawberry.field(
        description=f"What it is for, 1–{MAX_TOKEN_NAME} characters (e.g. `git hook`)."
    )
    scopes: list[TokenScope] = strawberry.field(
        description="At least one. Without WRITE, every mutation is refused (FORBIDDEN)."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When it stops working (in the future); null: never."
    )


@strawberry.type(
    description="A personal access token of the signed-in user (never its secret): sent as "
    "`Authorization: Bearer <token>` on HTTP and in a websocket's connection_init."
)
class AccessToken:
    id: strawberry.ID = strawberry.field(description="The token's id (a UUID).")
    name: str = strawberry.field(description="What it is for.")
    scopes: list[TokenScope] = strawberry.field(description="What it may do.")
    created_at: datetime = strawberry.field(description="When it was created.")
    last_used_at: datetime | None = strawberry.field(
        description="When it was last used (to the minute); null: never."
    )
    expires_at: datetime | None = strawberry.field(
        description="When it stops (or stopped) working; null: never."
    )

    @classmethod
    def from_model(cls, row: AccessTokenRow) -> AccessToken:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            scopes=[TokenScope(scope) for scope in row.scopes],
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
        )


@strawberry.type(description="A token just created: its secret is shown this once.")
class CreatedAccessToken:
    token: str = strawberry.field(
        description="The secret (`englog_pat_…`). Only its hash is stored: keep it now, it "
        "cannot be shown again."
    )
    access_token: AccessToken = strawberry.field(description="The token's record.")
