from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import strawberry

from graph import validation as check
from graph.auth import account, cookies, devices, service, sessions
from graph.auth.types import (
    AuthPayload,
    ChangePasswordInput,
    SignUpInput,
    UpdateProfileInput,
    User,
)
from graph.context import Context, Info
from graph.errors import BadUserInput, FieldErrors, NotFound, Unauthenticated

RefreshCookie = Annotated[
    bool,
    strawberry.argument(
        description="Browsers: answer the refresh token in the HttpOnly `englog_refresh` "
        "cookie (SameSite=Strict, Path=/graphql) instead of the body, where it is then null. "
        "HTTP only (refused on a websocket)."
    ),
]


def _payload(context: Context, result: service.Session, *, cookie: bool) -> AuthPayload:
    """The answer; with `cookie`, the refresh token goes into the cookie, not the body."""
    if cookie:
        cookies.store(context, result.refresh_token)
    return AuthPayload(
        access_token=result.access_token,
        refresh_token=None if cookie else result.refresh_token,
        expires_in=result.expires_in,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        user=User.from_model(result.user),
    )


def _device(info: Info) -> str | None:
    return devices.describe(info.context.request.headers.get("user-agent"))


PROFILE_FIELDS = ("first_name", "last_name", "timezone", "email")


def _profile_changes(data: UpdateProfileInput) -> account.ProfileChanges:
    """The checked changes, or BAD_USER_INPUT naming every field that is wrong."""
    errors = FieldErrors()
    values: dict[str, str | None] = {}
    for attribute, field in (("first_name", "firstName"), ("last_name", "lastName")):
        value = getattr(data, attribute)
        if check.given(value):
            values[attribute] = check.text(errors, field, value, max_len=check.MAX_NAME)
    for attribute, checker in (("timezone", check.timezone), ("email", check.email)):
        value = getattr(data, attribute)
        if not check.given(value):
            continue
        if value is None:
            errors.add(attribute, "must not be null")
        else:
            values[attribute] = checker(errors, attribute, value)
    if not any(check.given(getattr(data, a)) for a in PROFILE_FIELDS):
        errors.add("input", "must change at least one of firstName, lastName, timezone, email")
    password = data.current_password
    if check.given(password) and password is not None and len(password) > check.MAX_PASSWORD:
        errors.add("currentPassword", account.WRONG_PASSWORD)
    errors.raise_if_any()
    return account.ProfileChanges(**values)


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Create an account and sign in.")
    async def sign_up(
        self, info: Info, input: SignUpInput, refresh_cookie: RefreshCookie = False
    ) -> AuthPayload:
        if refresh_cookie:
            cookies.require_http(info.context)
        await info.context.state.limiter.sign_in(info.context, input.email)
        errors = FieldErrors()
        email = check.email(errors, "email", input.email)
        password = check.password(errors, "password", input.password)
        first = check.text(errors, "firstName", input.first_name, max_len=check.MAX_NAME)
        last = check.text(errors, "lastName", input.last_name, max_len=check.MAX_NAME)
        timezone = check.timezone(errors, "timezone", input.timezone)
        errors.raise_if_any()
        # raise_if_any() has returned, so every check passed and returned its value.
        assert email is not None
        assert password is not None
        assert first is not None
        assert last is not None
        assert timezone is not None
        state = info.context.state
        result = await service.sign_up(
            state.db,
            tokens=state.tokens,
            passwords=state.passwords,
            email=email,
            password=password,
            first_name=first,
            last_name=last,
            timezone=timezone,
            device=_device(info),
        )
        return _payload(info.context, result, cookie=refresh_cookie)

    @strawberry.mutation(description="Sign in with e-mail and password.")
    async def log_in(
        self, info: Info, email: str, password: str, refresh_cookie: RefreshCookie = False
    ) -> AuthPayload:
        if refresh_cookie:
            cookies.require_http(info.context)
        await info.context.state.limiter.sign_in(info.context, email)
        if len(email) > check.MAX_EMAIL or len(password) > check.MAX_PASSWORD or "\x00" in email:
            # Same answer as a wrong password: nothing to learn from these checks (and text in
            # PostgreSQL cannot hold NUL).
            raise Unauthenticated("Wrong e-mail or password")
        state = info.context.state
        result = await service.log_in(
            state.db,
            tokens=state.tokens,
            passwords=state.passwords,
            email=email,
            password=password,
            device=_device(info),
        )
        return _payload(info.context, result, cookie=refresh_cookie)

    @strawberry.mutation(
        description=(
            "Trade a refresh token for a new pair. Each refresh token works once; presenting a "
            "used one again revokes every session of that login, except within a short grace "
            "window (ENGLOG_REFRESH_GRACE_SECONDS) while the new refresh token is unused: then "
            "the same new pair is answered again, for a client that lost the first answer. "
            "Without `refreshToken`, the `englog_refresh` cookie is read (HTTP only), and the "
            "new refresh token always goes back into it; a refused cookie is cleared."
        )
    )
    async def refresh_token(
        self,
        info: Info,
        refresh_token: str | None = None,
        refresh_cookie: RefreshCookie = False,
    ) -> AuthPayload:
        context = info.context
        if refresh_cookie:
            cookies.require_http(context)
        from_cookie = refresh_token is None
        token = cookies.read(context) if from_cookie else refresh_token
        if token is None:
            raise cookies.NoRefreshToken()
        state = context.state
        try:
            result = await service.rotate_refresh_token(
                state.db,
                tokens=state.tokens,
                denylist=state.denylist,
                refresh_token=token,
                grace=timedelta(seconds=state.settings.refresh_grace_seconds),
            )
        except Unauthenticated:
            if from_cookie:
                cookies.clear(context)  # a dead cookie is not sent again and again
            raise
        return _payload(context, result, cookie=refresh_cookie or from_cookie)

    @strawberry.mutation(
        description="End the session this refresh token belongs to: its refresh and access "
        "tokens stop working at once. Without `refreshToken`, the `englog_refresh` cookie's "
        "session ends (HTTP only). Over HTTP the answer always clears that cookie."
    )
    async def log_out(self, info: Info, refresh_token: str | None = None) -> bool:
        context = info.context
        token = cookies.read(context) if refresh_token is None else refresh_token
        cookies.clear(context)
        if token is None:
            raise cookies.NoRefreshToken()
        state = context.state
        return await service.log_out(
            state.db, tokens=state.tokens, denylist=state.denylist, refresh_token=token
        )

    @strawberry.mutation(
        description="Change the password. Every other session of the account ends at once "
        "(its refresh and access tokens stop working); this one goes on. Returns how many "
        "sessions ended."
    )
    async def change_password(self, info: Info, input: ChangePasswordInput) -> int:
        context = info.context
        user_id = context.user_id()
        await context.state.limiter.password_check(context, user_id)
        errors = FieldErrors()
        if len(input.current_password) > check.MAX_PASSWORD:
            errors.add("currentPassword", account.WRONG_PASSWORD)
        new_password = check.password(errors, "newPassword", input.new_password)
        errors.raise_if_any()
        assert new_password is not None
        state = context.state
        return await account.change_password(
            state.db,
            passwords=state.passwords,
            denylist=state.denylist,
            user_id=user_id,
            current_family=context.session_family(),
            current_password=input.current_password,
            new_password=new_password,
        )

    @strawberry.mutation(
        description="Delete the account and everything stored with it (entries, projects, "
        "tags, insights, tasks, sessions), in one transaction, after confirming the password. "
        "Every session ends. exportMyData first keeps a copy."
    )
    async def delete_account(self, info: Info, password: str) -> bool:
        context = info.context
        user_id = context.user_id()
        await context.state.limiter.password_check(context, user_id)
        if len(password) > check.MAX_PASSWORD:
            raise BadUserInput({"password": account.WRONG_PASSWORD})
        state = context.state
        await account.delete_account(
            state.db,
            passwords=state.passwords,
            denylist=state.denylist,
            user_id=user_id,
            password=password,
        )
        return True

    @strawberry.mutation(
        description="Change the signed-in user's name, time zone or e-mail, in one "
        "transaction. A new e-mail needs `currentPassword`; one another account has is "
        "CONFLICT on `email`."
    )
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> User:
        context = info.context
        user_id = context.user_id()
        changes = _profile_changes(input)
        password = input.current_password if check.given(input.current_password) else None
        if changes.email is not None:
            await context.state.limiter.password_check(context, user_id)
        row = await account.update_profile(
            context.db,
            passwords=context.state.passwords,
            user_id=user_id,
            changes=changes,
            current_password=password,
        )
        return User.from_model(row)

    @strawberry.mutation(
        description="End one session of the signed-in user (see `sessions`), this one "
        "included: its refresh and access tokens stop working at once. NOT_FOUND on `id` "
        "for an id that is not a live session of this account."
    )
    async def end_session(self, info: Info, id: strawberry.ID) -> bool:
        context = info.context
        user_id = context.user_id()
        family = check.parse_uuid(id)
        if family is None:
            raise NotFound("Session", {"id": "is not a session of this account"})
        await sessions.end_session(
            context.db, denylist=context.state.denylist, user_id=user_id, family_id=family
        )
        return True

    @strawberry.mutation(
        description="End every session of the signed-in user but this one (sign out "
        "everywhere else); returns how many ended."
    )
    async def end_other_sessions(self, info: Info) -> int:
        context = info.context
        user_id = context.user_id()
        return await sessions.end_other_sessions(
            context.db,
            denylist=context.state.denylist,
            user_id=user_id,
            current=sessions.current_family(context),
        )
