"""signUp, logIn, refreshToken, logOut, changePassword and deleteAccount, fed generated input."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.factories import Api
from tests.properties.harness import (
    FEW_EXAMPLES,
    Change,
    Probe,
    for_all,
)
from tests.properties.strategies import (
    STRINGISH,
    TEXT,
    WRONG,
    ZONES,
    Ref,
    plausible,
    resolve,
    weighted,
)

LOG_IN = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }"
SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { user { email } } }"
SIGN_UP_INPUT = st.fixed_dictionaries(
    {
        "email": plausible(st.one_of(st.emails(), st.sampled_from(["taken@example.com"]))),
        "password": plausible(st.sampled_from(["correct horse battery", "x" * 128, "x" * 129])),
        "firstName": plausible(st.sampled_from(["Ada", "A" * 100])),
        "lastName": plausible(st.sampled_from(["Lovelace", "L" * 101])),
    },
    optional={"timezone": ZONES},
)


async def test_sign_up_answers_tokens_or_coded_errors_and_writes_only_on_success(
    probe: Probe, api: Api
) -> None:
    await api.sign_up("taken@example.com")

    async def check(account: Any) -> None:
        await probe.run(
            SIGN_UP,
            {"input": account},
            None,
            lambda data, _: {'"user"': Change(added=1), "refresh_token": Change(added=1)},
        )

    await for_all(plausible(SIGN_UP_INPUT), check)


async def test_log_in_answers_tokens_or_coded_errors_and_writes_only_on_success(
    probe: Probe, api: Api
) -> None:
    account = await api.sign_up("ada@example.com", password="correct horse battery")
    query = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }"
    emails = weighted(
        (3, st.sampled_from([account.email, " ADA@example.com ", "ada@example.co"])),
        (1, TEXT),
        (1, WRONG),
    )
    passwords = plausible(st.sampled_from(["correct horse battery", "Correct horse battery"]))

    async def check(example: tuple[Any, Any]) -> None:
        email, password = example
        await probe.run(
            query,
            {"e": email, "p": password},
            None,
            # The new session, and the user's last_login_at.
            lambda data, _: {'"user"': Change(changed=1), "refresh_token": Change(added=1)},
        )

    await for_all(st.tuples(emails, passwords), check)


VALID = Ref("valid")  # a refresh token freshly issued for the example
TOKENS = weighted(
    (2, st.just(VALID)),
    (1, st.sampled_from(["a.b.c", "e30.e30.", "x" * 100_000])),
    (2, STRINGISH),
)


async def test_refresh_token_answers_tokens_or_coded_errors_and_rotates_only_on_success(
    probe: Probe, api: Api
) -> None:
    query = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"

    async def check(token: Any) -> None:
        account = await api.sign_up()
        await probe.run(
            query,
            {"t": resolve(token, {"valid": account.refresh_token})},
            None,
            # The new token, and the presented one marked used.
            lambda data, _: {"refresh_token": Change(added=1, changed=1)},
        )

    await for_all(TOKENS, check, FEW_EXAMPLES)


async def test_log_out_answers_true_or_coded_errors_and_ends_a_session_only_on_success(
    probe: Probe, api: Api
) -> None:
    async def check(token: Any) -> None:
        account = await api.sign_up()
        await probe.run(
            "mutation($t: String!) { logOut(refreshToken: $t) }",
            {"t": resolve(token, {"valid": account.refresh_token})},
            None,
            lambda data, _: {"refresh_token": Change(changed=1)},
        )

    await for_all(TOKENS, check, FEW_EXAMPLES)


PASSWORDS = plausible(
    st.sampled_from(
        ["correct horse battery", "Correct horse battery", "short", "x" * 128, "x" * 129, ""]
    )
)


async def test_change_password_answers_a_count_or_coded_errors_and_writes_only_on_success(
    probe: Probe, api: Api
) -> None:
    query = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) }"
    inputs = plausible(
        st.fixed_dictionaries(
            {},
            optional={
                "currentPassword": plausible(st.one_of(PASSWORDS, TEXT)),
                "newPassword": plausible(st.one_of(PASSWORDS, TEXT)),
            },
        )
    )

    async def check(value: Any) -> None:
        account = await api.sign_up()
        await api.data(LOG_IN, {"e": account.email, "p": "correct horse battery"})
        await probe.run(
            query,
            {"input": value},
            account.access_token,
            # The password, and the other session ended.
            lambda data, _: {'"user"': Change(changed=1), "refresh_token": Change(changed=1)},
        )

    await for_all(inputs, check, FEW_EXAMPLES)


async def test_delete_account_answers_true_or_coded_errors_and_deletes_only_on_success(
    probe: Probe, api: Api
) -> None:
    query = "mutation($p: String!) { deleteAccount(password: $p) }"

    async def check(password: Any) -> None:
        account = await api.sign_up()
        await probe.run(
            query,
            {"p": password},
            account.access_token,
            lambda data, _: {'"user"': Change(removed=1), "refresh_token": Change(removed=1)},
        )

    await for_all(plausible(st.one_of(PASSWORDS, TEXT)), check, FEW_EXAMPLES)
