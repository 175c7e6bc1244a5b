"""createAccessToken and revokeAccessToken, fed generated input."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.factories import Api
from tests.graph.access_tokens.support import create_token
from tests.properties.harness import FEW_EXAMPLES, Change, Probe, World, for_all
from tests.properties.strategies import STRINGISH, TEXT, Ref, plausible, resolve, weighted

CREATE = """mutation($input: CreateAccessTokenInput!) {
  createAccessToken(input: $input) { token accessToken { id name scopes } } }"""
REVOKE = "mutation($id: ID!) { revokeAccessToken(id: $id) }"
SCOPES = st.lists(st.sampled_from(["READ", "WRITE"]), max_size=3)
INSTANTS = st.sampled_from(
    ["2999-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "3001-01-01T00:00:00Z", "2999-01-01T00:00"]
)
TOKEN_INPUT = st.fixed_dictionaries(
    {
        "name": plausible(st.one_of(st.sampled_from(["ci", "n" * 100, "n" * 101, " "]), TEXT)),
        "scopes": plausible(SCOPES),
    },
    optional={"expiresAt": plausible(st.one_of(st.none(), INSTANTS))},
)


async def test_create_access_token_answers_a_token_or_coded_errors_and_writes_only_on_success(
    probe: Probe, world: World
) -> None:
    async def check(value: Any) -> None:
        data = await probe.run(
            CREATE,
            {"input": value},
            world.me.access_token,
            lambda data, _: {"access_token": Change(added=1)},
        )
        if data is not None:
            created = data["createAccessToken"]
            assert created["token"].startswith("englog_pat_")
            assert created["accessToken"]["scopes"]

    await for_all(plausible(TOKEN_INPUT), check, FEW_EXAMPLES)


TOKEN_IDS = weighted(
    (3, st.just(Ref("own"))),
    (1, st.just(Ref("others"))),
    (1, st.uuids().map(str)),
    (1, STRINGISH),
)


async def test_revoke_access_token_answers_true_or_coded_errors_and_deletes_only_the_callers(
    probe: Probe, api: Api, world: World
) -> None:
    others = (await create_token(api, world.other))["accessToken"]["id"]

    async def check(token_id: Any) -> None:
        own = (await create_token(api, world.me))["accessToken"]["id"]
        await probe.run(
            REVOKE,
            {"id": resolve(token_id, {"own": own, "others": others})},
            world.me.access_token,
            lambda data, _: {"access_token": Change(removed=1)},
        )
        # What the probe did not revoke goes now: examples never reach the per-account cap.
        await api.post(REVOKE, {"id": own}, world.me.access_token)

    await for_all(TOKEN_IDS, check, FEW_EXAMPLES)
