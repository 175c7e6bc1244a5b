"""Malformed requests get protocol-correct refusals, never a 5xx: HTTP bodies, methods and
content types (GraphQL-over-HTTP), and websocket messages (graphql-transport-ws close codes)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.factories import Account, Api, connect
from tests.graph.live.ws.support import WS_SETTINGS
from tests.live import Client, Server, eventually, live_server, ws_client

JSON = {"Content-Type": "application/json"}
GRAPHQL_RESPONSE = "application/graphql-response+json"
NOT_JSON = "Unable to parse request body as JSON"
NOT_AN_OBJECT = "Expected a JSON object"
SURROGATE = "The JSON holds a lone UTF-16 surrogate (\\uD800-\\uDFFF)"
UNSUPPORTED = "Unsupported content type"
OPERATION_NAME = "The GraphQL operation's `operationName` must be a string or null, if provided."
CREATE_TAG = "mutation($name: String!) { createTag(input: {name: $name}) { name } }"


async def post(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post("/graphql", content=body, headers=JSON if headers is None else headers)


def assert_refused(response: httpx.Response, status: int, reason: str) -> None:
    """Refused before any GraphQL ran: the status and a plain-text reason."""
    assert (response.status_code, response.text) == (status, reason)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


# --- HTTP: bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"NONSENSE", b'{"query":', b"{not json}", b"{'query': '{ __typename }'}"],
    ids=["empty", "nonsense", "truncated", "unquoted", "single-quoted"],
)
async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    assert_refused(await post(client, body), 400, NOT_JSON)


@pytest.mark.parametrize(
    "body",
    [b"5", b'"{ __typename }"', b"null", b"true", b"[]", b'[{"query": "{ __typename }"}]'],
    ids=["number", "string", "null", "boolean", "empty-array", "batch"],
)
async def test_json_that_is_not_an_object_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    # A number, string or null used to fail with a 500 (Strawberry called .get on it).
    assert_refused(await post(client, body), 400, NOT_AN_OBJECT)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "No GraphQL query found in the request"),
        ({"query": None}, "No GraphQL query found in the request"),
        ({"qeury": "{ __typename }"}, "No GraphQL query found in the request"),
        ({"query": 5}, "The GraphQL operation's `query` must be a string or null, if provided."),
        (
            {"query": {"kind": "Document"}},
            "The GraphQL operation's `query` must be a string or null, if provided.",
        ),
        (
            {"query": "{ __typename }", "variables": [7]},
            "The GraphQL operation's `variables` must be an object or null, if provided.",
        ),
        (
            {"query": "{ __typename }", "variables": "{}"},
            "The GraphQL operation's `variables` must be an object or null, if provided.",
        ),
        (
            {"query": "{ __typename }", "extensions": 5},
            "The GraphQL operation's `extensions` must be an object or null, if provided.",
        ),
        *(
            ({"query": "{ __typename }", "operationName": name}, OPERATION_NAME)
            for name in ({"obj": "ect"}, 0, False, ["array"])
        ),
    ],
    ids=[
        "empty-object",
        "null-query",
        "misspelt-query",
        "number-query",
        "object-query",
        "array-variables",
        "string-variables",
        "number-extensions",
        "object-operation-name",
        "number-operation-name",
        "boolean-operation-name",
        "array-operation-name",
    ],
)
async def test_a_request_with_missing_or_mistyped_parameters_is_400(
    client: httpx.AsyncClient, body: dict[str, Any], reason: str
) -> None:
    assert_refused(await post(client, json.dumps(body).encode()), 400, reason)


@pytest.mark.parametrize(
    "body",
    [b'{"query": "{ __typename \xff }"}', b'{"query": "\xc3\x28"}', b"\xed\xa0\x80"],
    ids=["stray-byte", "broken-sequence", "encoded-surrogate"],
)
async def test_a_body_that_is_not_utf8_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    # It used to fail with a 500 (a UnicodeDecodeError is no JSONDecodeError).
    assert_refused(await post(client, body), 400, "The request body is not valid UTF-8")


@pytest.mark.parametrize(
    "variables",
    [b'{"name": "\\ud800"}', b'{"name": "a\\uDFFFb"}', b'{"\\udbff": "x"}'],
    ids=["high", "low", "in-a-key"],
)
async def test_a_lone_surrogate_escape_is_400_and_writes_nothing(
    client: httpx.AsyncClient, api: Api, database_url: str, variables: bytes
) -> None:
    """Valid JSON grammar, but no Unicode text: PostgreSQL, the logs and the answer itself
    could not have encoded it."""
    account = await api.sign_up()
    body = b'{"query": "' + CREATE_TAG.encode() + b'", "variables": ' + variables + b"}"
    headers = {**JSON, "Authorization": f"Bearer {account.access_token}"}
    assert_refused(await post(client, body, headers), 400, SURROGATE)
    async with connect(database_url) as connection:
        assert await connection.fetchval("SELECT count(*) FROM tag") == 0


async def test_an_escaped_surrogate_pair_is_an_ordinary_character(
    client: httpx.AsyncClient, api: Api
) -> None:
    account = await api.sign_up()
    body = b'{"query": "' + CREATE_TAG.encode() + b'", "variables": {"name": "\\ud83d\\ude00"}}'
    headers = {**JSON, "Authorization": f"Bearer {account.access_token}"}
    response = await post(client, body, headers)
    assert response.status_code == 200
    assert response.json() == {"data": {"createTag": {"name": "😀"}}}


@pytest.mark.parametrize(
    "variables",
    [b"[" * 100_000 + b"]" * 100_000, b"1" * 5000],
    ids=["nested-100000-deep", "5000-digit-number"],
)
async def test_json_python_cannot_read_is_400(client: httpx.AsyncClient, variables: bytes) -> None:
    # Both used to fail with a 500 (RecursionError; ValueError over 4,300 digits).
    body = b'{"query": "{ __typename }", "variables": {"x": ' + variables + b"}}"
    assert_refused(await post(client, body), 400, NOT_JSON)


async def test_a_body_over_the_cap_is_413_with_a_coded_error(client: httpx.AsyncClient) -> None:
    body = json.dumps({"query": "{ __typename }", "variables": {"x": "x" * 2_000_000}})
    response = await post(client, body.encode())
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": "The request body is over 1048576 bytes",
                "extensions": {"code": "PAYLOAD_TOO_LARGE", "maxBytes": 1048576},
            }
        ]
    }


# --- HTTP: operations, content types, methods --------------------------------------------

UNKNOWN_OPERATION = {
    "message": 'Unknown operation named "Nope".',
    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
}


async def test_an_unknown_operation_name_is_a_request_error_200_for_json(
    client: httpx.AsyncClient,
) -> None:
    """GetOperation() failed: a GraphQL request error, 200 with application/json
    (GraphQL-over-HTTP 6.4.1); it was a plain-text 400."""
    response = await client.post(
        "/graphql", json={"query": "query A { __typename }", "operationName": "Nope"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": None, "errors": [UNKNOWN_OPERATION]}


async def test_an_unknown_operation_name_is_400_without_data_for_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "query A { __typename }", "operationName": "Nope"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert (response.status_code, response.headers["content-type"]) == (400, GRAPHQL_RESPONSE)
    assert response.json() == {"errors": [UNKNOWN_OPERATION]}


# --- HTTP: documents ------------------------------------------------------------------------


async def test_an_empty_selection_set_answers_an_empty_object(api: Api) -> None:
    """Allowed since graphql-spec#1227 (graphql-core parses it): Strawberry's depth limiter
    crashed on it, answering "max() arg is an empty sequence" with no code."""
    account = await api.sign_up()
    assert await api.post("{ }") == {"data": {}}
    assert await api.post("{ me { } }", token=account.access_token) == {"data": {"me": {}}}
    assert await api.post("query Q { me { } }") == {
        "data": None,
        "errors": [
            {
                "message": "Authentication required",
                "locations": [{"line": 1, "column": 11}],
                "path": ["me"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }


async def test_a_spread_of_an_unknown_fragment_is_a_validation_error(api: Api) -> None:
    # The depth limiter looked the fragment up before validation said it was unknown.
    assert await api.post("{ ...Nope }") == {
        "data": None,
        "errors": [
            {
                "message": "Unknown fragment 'Nope'.",
                "locations": [{"line": 1, "column": 6}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ],
    }


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_an_operation_name_that_is_not_a_string_is_400_whatever_is_accepted(
    client: httpx.AsyncClient, accept: str
) -> None:
    """A malformed request, like variables of the wrong type: it was 'Unknown operation
    named "5"', 200 with application/json."""
    body = json.dumps({"query": "query A { __typename }", "operationName": 5}).encode()
    response = await post(client, body, {**JSON, "Accept": accept})
    assert_refused(response, 400, OPERATION_NAME)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"query { __typename }", "text/plain"),
        (b"query { __typename }", "application/graphql"),
        (b"query=%7B+__typename+%7D", "application/x-www-form-urlencoded"),
        (
            b'--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n'
            b"{ __typename }\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
        (b'{"query": "{ __typename }"}', "application/xml"),
    ],
    ids=["text", "graphql", "form", "multipart", "xml"],
)
async def test_a_body_of_an_unsupported_content_type_is_400(
    client: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    assert_refused(await post(client, body, {"Content-Type": content_type}), 400, UNSUPPORTED)


async def test_a_post_without_a_content_type_is_400(client: httpx.AsyncClient) -> None:
    assert_refused(await post(client, b'{"query": "{ __typename }"}', {}), 400, UNSUPPORTED)


@pytest.mark.parametrize(
    "params",
    [
        {"query": 'mutation { logOut(refreshToken: "x") }'},
        {
            "query": 'query A { __typename } mutation B { logOut(refreshToken: "x") }',
            "operationName": "B",
        },
    ],
    ids=["only-a-mutation", "mutation-chosen-by-name"],
)
async def test_a_mutation_over_get_is_405(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/graphql", params=params)
    assert_refused(response, 405, "mutations are not allowed when using GET")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/graphql", json={"query": "{ __typename }"})
    assert_refused(response, 405, "GraphQL only supports GET and POST requests.")


@pytest.mark.parametrize(
    ("variables", "reason"),
    [("{bad", NOT_JSON), ("5", NOT_AN_OBJECT), ('{"x": "\\ud800"}', SURROGATE)],
    ids=["not-json", "number", "lone-surrogate"],
)
async def test_get_variables_that_are_not_a_json_object_are_400(
    client: httpx.AsyncClient, variables: str, reason: str
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ __typename }", "variables": variables}
    )
    assert_refused(response, 400, reason)


# --- websockets (graphql-transport-ws) ---------------------------------------------------

SUBSCRIPTION = "subscription { logEntryEvents { cursor } }"


@pytest.fixture(scope="module")
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with live_server(database_url, redis_url, **WS_SETTINGS) as running:
        yield running


@pytest.fixture
async def account(server: Server) -> Account:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        return await Api(client).sign_up()


async def closed_after(client: Client, *frames: str | bytes) -> tuple[int, str]:
    for frame in frames:
        await client.socket.send(frame)
    return await client.closed()


@pytest.mark.parametrize(
    ("frame", "close"),
    [
        ("not json", (4400, "WebSocket message must be valid JSON")),
        ('{"type": "connection_init"', (4400, "WebSocket message must be valid JSON")),
        # Valid JSON but no message object: these two used to make the ASGI app fail, the
        # socket ending without a close frame.
        ("5", (4400, "WebSocket message must be valid JSON")),
        ("[]", (4400, "WebSocket message must be valid JSON")),
        (
            '{"type": "connection_init", "payload": "\\ud800"}',
            (4400, "WebSocket message must be valid JSON"),
        ),
        (b'{"type": "connection_init"}', (4400, "WebSocket message type must be text")),
        ('{"type": "hello"}', (4400, "Unknown message type: hello")),
        ('{"payload": {}}', (4400, "Failed to parse message")),
        ('{"type": "connection_init", "payload": 5}', (4400, "Invalid connection init payload")),
    ],
    ids=[
        "not-json",
        "truncated-json",
        "number",
        "array",
        "lone-surrogate",
        "binary",
        "unknown-type",
        "no-type",
        "payload-not-an-object",
    ],
)
async def test_a_malformed_first_message_closes_the_socket_with_4400(
    server: Server, frame: str | bytes, close: tuple[int, str]
) -> None:
    async with ws_client(server) as client:
        assert await closed_after(client, frame) == close


async def test_a_subscribe_before_connection_init_closes_with_4401(server: Server) -> None:
    async with ws_client(server) as client:
        await client.subscribe(SUBSCRIPTION)
        assert await client.closed() == (4401, "Unauthorized")


async def test_a_second_connection_init_closes_with_4429(server: Server, account: Account) -> None:
    async with ws_client(server) as client:
        await client.log_in(account.access_token)
        await client.init({"authorization": f"Bearer {account.access_token}"})
        assert await client.closed() == (4429, "Too many initialisation requests")


SUBSCRIBE_SHAPE = "Invalid subscribe message: expected a string id and an object payload"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "subscribe", "payload": {"query": SUBSCRIPTION}}, SUBSCRIBE_SHAPE),
        ({"type": "subscribe", "id": 1, "payload": {"query": SUBSCRIPTION}}, SUBSCRIBE_SHAPE),
        ({"type": "subscribe", "id": "1"}, SUBSCRIBE_SHAPE),
        # These two raised a TypeError out of the handler (no close frame) or went unanswered.
        ({"type": "subscribe", "id": "1", "payload": 5}, SUBSCRIBE_SHAPE),
        (
            {"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIPTION, "variables": 5}},
            "Invalid subscribe message: payload.variables must be an object",
        ),
        (
            {"type": "subscribe", "id": "1", "payload": {}},
            "Invalid subscribe message: payload.query must be a string",
        ),
        (
            {"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIPTION, "extensions": []}},
            "Invalid subscribe message: payload.extensions must be an object",
        ),
        (
            {"type": "subscribe", "id": "1", "payload": {"query": 5}},
            "Invalid subscribe message: payload.query must be a string",
        ),
        (
            {
                "type": "subscribe",
                "id": "1",
                "payload": {"query": SUBSCRIPTION, "operationName": ["x"]},
            },
            "Invalid subscribe message: payload.operationName must be a string",
        ),
        ({"type": "complete"}, "Invalid complete message: expected a string id"),
    ],
    ids=[
        "no-id",
        "number-id",
        "no-payload",
        "payload-not-an-object",
        "variables-not-an-object",
        "no-query",
        "extensions-not-an-object",
        "query-not-a-string",
        "operation-name-not-a-string",
        "complete-without-id",
    ],
)
async def test_a_subscribe_or_complete_of_the_wrong_shape_closes_with_4400(
    server: Server, account: Account, message: dict[str, Any], reason: str
) -> None:
    async with ws_client(server) as client:
        await client.log_in(account.access_token)
        await client.send(message)
        assert await client.closed() == (4400, reason)
    # The handler ended: the connection no longer counts against the user.
    await eventually(lambda: server.connections(account.user_id), 0)


async def test_a_duplicate_subscription_id_closes_with_4409_and_the_handler_ends(
    server: Server, account: Account
) -> None:
    # Closed right after it subscribed: the feed's first cancellation was swallowed in a
    # database call, and the handler waited for it forever (graph/live/feeds.py stop_task).
    async with ws_client(server) as client:
        await client.log_in(account.access_token)
        await client.subscribe(SUBSCRIPTION, operation_id="dup")
        await client.subscribe(SUBSCRIPTION, operation_id="dup")
        assert await client.closed() == (4409, "Subscriber for dup already exists")
    await eventually(lambda: server.connections(account.user_id), 0)

    async def feeds() -> int:
        return len(server.state.feeds)

    await eventually(feeds, 0)  # its feed stopped too (and with it, its Redis subscription)
