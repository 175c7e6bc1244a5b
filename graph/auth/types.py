from __future__ import annotations

from datetime import datetime

import strawberry

from db.models import User as UserRow
from db.queries.refresh_token import SessionRow
from db.queries.schedule import Preferences as PreferencesData
from graph.auth import devices
from graph.notifications.types import Preferences


@strawberry.type(description="An EngLog account.")
class User:
    id: strawberry.ID = strawberry.field(description="The user's id (a UUID).")
    email: str = strawberry.field(description="Login e-mail, stored lower-cased.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    timezone: str = strawberry.field(
        description="IANA time zone used for schedules and day boundaries, e.g. Europe/Berlin."
    )
    created_at: datetime = strawberry.field(description="When the account was created.")
    preferences: Preferences = strawberry.field(
        description="Scheduled reports, reminders and e-mail (updatePreferences)."
    )

    @classmethod
    def from_model(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            timezone=row.timezone,
            created_at=row.created_at,
            preferences=Preferences.from_data(PreferencesData.from_json(row.preferences)),
        )


@strawberry.type(description="Tokens for a session, returned by signUp, logIn and refreshToken.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="Short-lived JWT for `Authorization: Bearer <accessToken>`."
    )
    refresh_token: str | None = strawberry.field(
        description="Long-lived token for refreshToken; rotated on every use. Null exactly "
        "when it went into the HttpOnly `englog_refresh` cookie instead (`refreshCookie: "
        "true`, or a refreshToken call that read the cookie)."
    )
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    token_type: str = strawberry.field(description="Always `Bearer`.")
    user: User = strawberry.field(description="The signed-in user.")


@strawberry.input(description="A new account.")
class SignUpInput:
    email: str = strawberry.field(description="Login e-mail; unique, case-insensitive.")
    password: str = strawberry.field(description="At least 8 characters.")
    first_name: str = strawberry.field(description="Given name, 1–100 characters.")
    last_name: str = strawberry.field(description="Family name, 1–100 characters.")
    timezone: str = strawberry.field(
        default="UTC", description="IANA time zone, e.g. America/New_York. Defaults to UTC."
    )


@strawberry.input(description="A new password, confirmed with the current one.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(description="At least 8 characters.")


@strawberry.input(
    description="Changes to the signed-in user's profile; fields left out stay. At least one "
    "is required. Changing `email` needs `currentPassword`."
)
class UpdateProfileInput:
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Given name, 1–100 characters."
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Family name, 1–100 characters."
    )
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA time zone, e.g. Europe/Berlin."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new login e-mail (unique, case-insensitive); needs `currentPassword`.",
    )
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The password in use now: required to change `email`, ignored otherwise.",
    )


@strawberry.type(description="A signed-in login of the account (a family of refresh tokens).")
class Session:
    id: strawberry.ID = strawberry.field(description="The session's id (a UUID).")
    device: str = strawberry.field(
        description="What signed in, read from its User-Agent, e.g. `Chrome on Linux`; "
        "`Unknown device` when it sent none."
    )
    created_at: datetime = strawberry.field(description="When this login signed in.")
    last_used_at: datetime = strawberry.field(
        description="When it last refreshed its tokens (its sign-in, if it never did)."
    )
    current: bool = strawberry.field(
        description="Whether this is the session making the request (its access token's, "
        "or its refresh cookie's)."
    )

    @classmethod
    def from_row(cls, row: SessionRow, *, current: bool) -> Session:
        return cls(
            id=strawberry.ID(str(row.family_id)),
            device=devices.label(row.device),
            created_at=row.signed_in_at,
            last_used_at=row.last_used_at,
            current=current,
        )
