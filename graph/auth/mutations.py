from __future__ import annotations

from datetime import timedelta

import strawberry

from graph import validation as check
from graph.auth import account, service
from graph.auth.types import AuthPayload, ChangePasswordInput, SignUpInput, User
from graph.context import Info
from graph.errors import BadUserInput, FieldErrors, Unauthenticated


def _payload(result: service.Session) -> AuthPayload:
    return AuthPayload(
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        expires_in=result.expires_in,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        user=User.from_model(result.user),
    )


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Create an account and sign in.")
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
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
        )
        return _payload(result)

    @strawberry.mutation(description="Sign in with e-mail and password.")
    async def log_in(self, info: Info, email: str, password: str) -> AuthPayload:
        await info.context.state.limiter.sign_in(info.context, email)
        if len(email) > check.MAX_EMAIL or len(password) > check.MAX_PASSWORD or "\x00" in email:
            # Same answer as a wrong password: nothing to learn from these checks (and text in
            # PostgreSQL cannot hold NUL).
            raise Unauthenticated("Wrong e-mail or password")
        state = info.context.state
        result = await service.log_in(
            state.db, tokens=state.tokens, passwords=state.passwords, email=email, password=password
        )
        return _payload(result)

    @strawberry.mutation(
        description=(
            "Trade a refresh token for a new pair. Each refresh token works once; presenting a "
            "used one again revokes every session of that login, except within a short grace "
            "window (ENGLOG_REFRESH_GRACE_SECONDS) while the new refresh token is unused: then "
            "the same new pair is answered again, for a client that lost the first answer."
        )
    )
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        state = info.context.state
        result = await service.rotate_refresh_token(
            state.db,
            tokens=state.tokens,
            denylist=state.denylist,
            refresh_token=refresh_token,
            grace=timedelta(seconds=state.settings.refresh_grace_seconds),
        )
        return _payload(result)

    @strawberry.mutation(
        description="End the session this refresh token belongs to: its refresh and access "
        "tokens stop working at once."
    )
    async def log_out(self, info: Info, refresh_token: str) -> bool:
        state = info.context.state
        return await service.log_out(
            state.db, tokens=state.tokens, denylist=state.denylist, refresh_token=refresh_token
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
