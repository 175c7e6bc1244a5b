"""Every field that takes an id, found by introspection, refuses another user's objects.

The schema is walked for arguments of type ID (directly, in lists, or inside input objects,
at any depth). Each such field must have an entry in CALLS saying how to call it with a
victim's ids; a field added later without one fails `test_every_id_taking_field_is_covered`,
and one whose resolver forgets the owner check fails `test_another_users_ids_are_not_found`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from jose import jwt

from tests.factories import Account, Api, entry_input
from tests.graph.access_tokens.support import create_token
from tests.live import Server, live_server, logged_in

Ids = dict[str, str]  # object kind → the victim's id


@dataclass(frozen=True)
class Call:
    document: str
    variables: Callable[[Ids], dict[str, Any]]


def _entry(ids: Ids) -> dict[str, Any]:
    return entry_input(projectId=ids["Project"])


CALLS: dict[str, Call] = {
    # Query
    "Query.project": Call(
        "query($id: ID!) { project(id: $id) { id } }", lambda i: {"id": i["Project"]}
    ),
    "Query.logEntry": Call(
        "query($id: ID!) { logEntry(id: $id) { id } }", lambda i: {"id": i["LogEntry"]}
    ),
    "Query.insight": Call(
        "query($id: ID!) { insight(id: $id) { id } }", lambda i: {"id": i["Insight"]}
    ),
    "Query.logEntries": Call(
        "query($p: [ID!]) { logEntries(filter: {projectIds: $p}) { edges { node { id } } } }",
        lambda i: {"p": [i["Project"]]},
    ),
    # Mutation
    "Mutation.updateProject": Call(
        'mutation($id: ID!) { updateProject(id: $id, input: {name: "Mine now"}) { id } }',
        lambda i: {"id": i["Project"]},
    ),
    "Mutation.deleteProject": Call(
        "mutation($id: ID!) { deleteProject(id: $id) }", lambda i: {"id": i["Project"]}
    ),
    "Mutation.updateTag": Call(
        'mutation($id: ID!) { updateTag(id: $id, input: {name: "mine-now"}) { id } }',
        lambda i: {"id": i["Tag"]},
    ),
    "Mutation.deleteTag": Call(
        "mutation($id: ID!) { deleteTag(id: $id) }", lambda i: {"id": i["Tag"]}
    ),
    "Mutation.createLogEntry": Call(
        "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }",
        lambda i: {"input": _entry(i)},
    ),
    "Mutation.createLogEntries": Call(
        "mutation($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) { id } }",
        lambda i: {"inputs": [_entry(i)]},
    ),
    "Mutation.updateLogEntry": Call(
        'mutation($id: ID!) { updateLogEntry(id: $id, input: {title: "Mine now"}) { id } }',
        lambda i: {"id": i["LogEntry"]},
    ),
    "Mutation.deleteLogEntry": Call(
        "mutation($id: ID!) { deleteLogEntry(id: $id) }", lambda i: {"id": i["LogEntry"]}
    ),
    "Mutation.requestInsight": Call(
        """mutation($p: [ID!]) { requestInsight(input: {kind: WEEKLY_REPORT,
          periodStart: "2026-11-02", periodEnd: "2026-11-08", projectIds: $p}) { id } }""",
        lambda i: {"p": [i["Project"]]},
    ),
    "Mutation.retryInsight": Call(
        "mutation($id: ID!) { retryInsight(id: $id) { id } }", lambda i: {"id": i["Insight"]}
    ),
    "Mutation.updateInsight": Call(
        'mutation($id: ID!) { updateInsight(id: $id, input: {editedContent: "Mine"}) { id } }',
        lambda i: {"id": i["Insight"]},
    ),
    "Mutation.deleteInsight": Call(
        "mutation($id: ID!) { deleteInsight(id: $id) }", lambda i: {"id": i["Insight"]}
    ),
    "Mutation.revokeAccessToken": Call(
        "mutation($id: ID!) { revokeAccessToken(id: $id) }", lambda i: {"id": i["AccessToken"]}
    ),
    "Mutation.endSession": Call(
        "mutation($id: ID!) { endSession(id: $id) }", lambda i: {"id": i["Session"]}
    ),
    "Mutation.startTimer": Call(
        'mutation($p: ID, $t: [ID!]) { startTimer(input: {title: "Mine", projectId: $p, '
        "tagIds: $t}) { id } }",
        lambda i: {"p": i["Project"], "t": [i["Tag"]]},
    ),
    "Mutation.updateTimer": Call(
        "mutation($p: ID) { updateTimer(input: {projectId: $p}) { id } }",
        lambda i: {"p": i["Project"]},
    ),
    # Subscription (over the websocket)
    "Subscription.insightProgress": Call(
        "subscription($id: ID!) { insightProgress(id: $id) { status delta } }",
        lambda i: {"id": i["Insight"]},
    ),
}
# Lookups whose type is nullable answer null for an id that is not the caller's, exactly as
# for an id that does not exist; every other field answers NOT_FOUND.
NULLABLE_LOOKUPS = {"Query.project", "Query.logEntry", "Query.insight"}


def _unwrap(type_ref: dict[str, Any]) -> dict[str, Any]:
    while type_ref.get("ofType") is not None and type_ref["kind"] in ("NON_NULL", "LIST"):
        type_ref = type_ref["ofType"]
    return type_ref


def _takes_id(type_ref: dict[str, Any], inputs: dict[str, Any], seen: frozenset[str]) -> bool:
    named = _unwrap(type_ref)
    if named["kind"] == "SCALAR":
        return bool(named["name"] == "ID")
    if named["kind"] == "INPUT_OBJECT" and named["name"] not in seen:
        return any(
            _takes_id(field["type"], inputs, seen | {named["name"]})
            for field in inputs[named["name"]]["inputFields"]
        )
    return False


def id_taking_fields(schema: dict[str, Any]) -> set[str]:
    types = {t["name"]: t for t in schema["types"]}
    inputs = {name: t for name, t in types.items() if t["kind"] == "INPUT_OBJECT"}
    found = set()
    for root in ("queryType", "mutationType", "subscriptionType"):
        if schema.get(root) is None:
            continue
        name = schema[root]["name"]
        for field in types[name]["fields"]:
            if any(_takes_id(arg["type"], inputs, frozenset()) for arg in field["args"]):
                found.add(f"{name}.{field['name']}")
    return found


async def _schema(api: Api) -> dict[str, Any]:
    body = await api.post(get_introspection_query())
    schema: dict[str, Any] = body["data"]["__schema"]
    return schema


async def test_every_id_taking_field_is_covered(api: Api) -> None:
    assert id_taking_fields(await _schema(api)) == set(CALLS)


async def _victim(api: Api, victim: Account) -> Ids:
    token = victim.access_token
    project = await api.data(
        'mutation { createProject(input: {name: "Secret"}) { id } }', token=token
    )
    entry = await api.create_entry(victim, tags=["secret-tag"])
    tags = await api.data("{ tags { id name } }", token=token)
    insight = await api.data(
        """mutation { requestInsight(input: {kind: WEEKLY_REPORT,
          periodStart: "2026-11-02", periodEnd: "2026-11-08"}) { id } }""",
        token=token,
    )
    return {
        "Project": project["createProject"]["id"],
        "LogEntry": entry["id"],
        "Tag": tags["tags"][0]["id"],
        "Insight": insight["requestInsight"]["id"],
        "Session": jwt.get_unverified_claims(token)["fam"],
        "AccessToken": (await create_token(api, victim))["accessToken"]["id"],
    }


async def _state(api: Api, victim: Account) -> dict[str, Any]:
    return await api.data(
        """{ projects { id name } tags { id name }
             logEntries { edges { node { id title project { id } } } }
             insights { edges { node { id status } } } }""",
        token=victim.access_token,
    )


async def _subscribe(server: Server, token: str, call: Call, ids: Ids) -> dict[str, Any]:
    """The first answer of a subscription, as {"data": …} or {"errors": […]}."""
    async with logged_in(server, token) as socket:
        payload = {"query": call.document, "variables": call.variables(ids)}
        await socket.send({"id": "1", "type": "subscribe", "payload": payload})
        message = await socket.receive()
    answer: dict[str, Any] = message["payload"]
    return answer if message["type"] == "next" else {"errors": answer}


async def test_another_users_ids_are_not_found(database_url: str, redis_url: str) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as client,
    ):
        api = Api(client)
        victim, intruder = await api.sign_up(), await api.sign_up()
        ids = await _victim(api, victim)
        before = await _state(api, victim)
        for name, call in CALLS.items():
            root, field = name.split(".")
            if root == "Subscription":
                body = await _subscribe(server, intruder.access_token, call, ids)
            else:
                body = await api.post(call.document, call.variables(ids), intruder.access_token)
            if name in NULLABLE_LOOKUPS and not body.get("errors"):
                assert body["data"] == {field: None}, (name, body)
                continue
            assert body.get("errors"), (name, body)
            codes = [error.get("extensions", {}).get("code") for error in body["errors"]]
            assert codes == ["NOT_FOUND"], (name, body)
        # And nothing of the victim's changed, nor did the intruder gain anything.
        assert await _state(api, victim) == before
        intruders = await _state(api, intruder)
        assert intruders["projects"] == []
        assert intruders["logEntries"]["edges"] == []


@pytest.mark.parametrize("field", sorted(NULLABLE_LOOKUPS))
async def test_a_nullable_lookup_of_another_users_id_answers_as_for_no_such_id(
    api: Api, field: str
) -> None:
    victim, intruder = await api.sign_up(), await api.sign_up()
    ids = await _victim(api, victim)
    call = CALLS[field]
    foreign = await api.post(call.document, call.variables(ids), intruder.access_token)
    missing_ids = dict.fromkeys(ids, "00000000-0000-4000-8000-000000000000")
    missing = await api.post(call.document, call.variables(missing_ids), intruder.access_token)
    assert foreign == missing
