from __future__ import annotations

from datetime import datetime

import strawberry

from db.models import User as UserRow
from db.queries.schedule import Preferences as PreferencesData
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
    refresh_token: str = strawberry.field(
        description="Long-lived token for refreshToken; rotated on every use."
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
