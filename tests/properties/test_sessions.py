"""updateProfile, endSession and endOtherSessions, fed generated input."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st
from jose import jwt

from tests.factories import Api
from tests.properties.harness import FEW_EXAMPLES, Change, Probe, World, for_all
from tests.properties.strategies import STRINGISH, TEXT, ZONES, Ref, plausible, resolve, weighted

LOG_IN = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }"
PASSWORD = "correct horse battery"
NAMES = plausible(st.one_of(st.sampled_from(["Grace", "G" * 100, "G" * 101, " ", ""]), TEXT))
PROFILE_INPUT = st.fixed_dictionaries(
    {},
    optional={
        "firstName": NAMES,
        "lastName": NAMES,
        "timezone": ZONES,
        "email": plausible(
            st.sampled_from(["grace@example.com", "taken@example.com", "not-an-address"])
        ),
        "currentPassword": plausible(st.sampled_from([PASSWORD, "wrong password", ""])),
    },
)


async def test_update_profile_answers_the_user_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World, api: Api
) -> None:
    await api.sign_up("taken@example.com")
    query = """mutation($input: UpdateProfileInput!) {
      updateProfile(input: $input) { id email } }"""

    async def check(value: Any) -> None:
        data = await probe.run(
            query,
            {"input": value},
            world.me.access_token,
            lambda data, _: {'"user"': Change(changed=1)},
        )
        if data is not None:
            assert data["updateProfile"]["id"] == world.me.user_id

    await for_all(plausible(PROFILE_INPUT), check)


SESSION_IDS = weighted(
    (3, st.just(Ref("own"))),
    (1, st.just(Ref("others"))),
    (1, st.uuids().map(str)),
    (1, STRINGISH),
)


async def test_end_session_answers_true_or_coded_errors_and_ends_only_the_callers(
    probe: Probe, api: Api
) -> None:
    other = await api.sign_up()

    async def check(session_id: Any) -> None:
        account = await api.sign_up()
        second = await api.data(LOG_IN, {"e": account.email, "p": PASSWORD})
        refs = {
            "own": jwt.get_unverified_claims(second["logIn"]["accessToken"])["fam"],
            "others": jwt.get_unverified_claims(other.access_token)["fam"],
        }
        await probe.run(
            "mutation($id: ID!) { endSession(id: $id) }",
            {"id": resolve(session_id, refs)},
            account.access_token,
            lambda data, _: {"refresh_token": Change(changed=1)},
        )

    await for_all(SESSION_IDS, check, FEW_EXAMPLES)


# What goes in the Authorization header: printable ASCII (httpx sends nothing else).
TOKENS = weighted(
    (3, st.just(Ref("valid"))),
    (1, st.sampled_from(["", "a.b.c", "e30.e30.", "x" * 10_000])),
    (1, st.text(string.ascii_letters + string.digits + "._-")),
)


async def test_end_other_sessions_answers_a_count_or_coded_errors_and_ends_only_the_others(
    probe: Probe, api: Api
) -> None:
    async def check(token: Any) -> None:
        account = await api.sign_up()
        for _ in range(2):
            await api.data(LOG_IN, {"e": account.email, "p": PASSWORD})
        resolved: str = resolve(token, {"valid": account.access_token})
        data = await probe.run(
            "mutation { endOtherSessions }",
            {},
            resolved,
            lambda data, _: {"refresh_token": Change(changed=2)},
        )
        if data is not None:
            assert data == {"endOtherSessions": 2}

    await for_all(TOKENS, check, FEW_EXAMPLES)
