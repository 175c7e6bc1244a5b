"""GraphQL over HTTP: methods, media types and status codes (graphql-over-http spec)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import httpx
import pytest
import strawberry
from graphql import ASTValidationRule, ValidationContext
from strawberry.extensions import AddValidationRules

from graph.errors import ErrorCodes
from graph.schema import Schema
from tests.factories import Api, make_settings, serve

GRAPHQL_RESPONSE = "application/graphql-response+json"
LOG_IN = 'mutation($e: String!) { logIn(email: $e, password: "not it") { accessToken } }'


async def test_get_runs_a_query(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_get_refuses_a_mutation_with_405(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": 'mutation { logOut(refreshToken: "x") }'}
    )
    assert response.status_code == 405


async def test_graphql_response_json_is_served_when_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_accept_quality_values_choose_the_media_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Accept": f"{GRAPHQL_RESPONSE};q=0.5, application/json"},
    )
    assert response.headers["content-type"] == "application/json"
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Accept": f"application/json;q=0.9, {GRAPHQL_RESPONSE}"},
    )
    assert response.headers["content-type"] == GRAPHQL_RESPONSE


async def test_parse_error_is_400_without_data_for_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ me "}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_PARSE_FAILED"]


async def test_validation_error_is_400_for_graphql_response_json_and_200_for_json(
    client: httpx.AsyncClient,
) -> None:
    query = {"query": "{ noSuchField }"}
    modern = await client.post("/graphql", json=query, headers={"Accept": GRAPHQL_RESPONSE})
    assert modern.status_code == 400
    assert [e["extensions"]["code"] for e in modern.json()["errors"]] == [
        "GRAPHQL_VALIDATION_FAILED"
    ]
    legacy = await client.post("/graphql", json=query, headers={"Accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None
    assert [e["extensions"]["code"] for e in legacy.json()["errors"]] == [
        "GRAPHQL_VALIDATION_FAILED"
    ]


async def test_bad_enum_variable_is_a_coded_request_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": "query($t: [ActivityType!]) "
            "{ logEntries(filter: {types: $t}) { totalCount } }",
            "variables": {"t": ["NAPPING"]},
        },
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fields"]) == ["t.0"]


async def test_field_errors_keep_status_200_with_data(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert body["errors"][0]["path"] == ["me"]


async def test_malformed_json_and_wrong_content_type_are_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    response = await client.post(
        "/graphql", content=b"query { me { id } }", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400


async def test_graphiql_is_served_to_browsers_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


GRAPHIQL_PROBE = """
const made = [];
const GraphiQL = { createFetcher: (options) => { made.push(options); return () => "sent"; } };
const fetchURL = "http://x/graphql", defaultHeaders = {}, subscriptionUrl = "ws://x/graphql";
%s
const before = made[0].wsConnectionParams();
const answer = fetcher({ query: "subscription { insightEvents { cursor } }" },
                       { headers: { AUTHORIZATION: "Bearer abc" } });
const after = made[0].wsConnectionParams();
fetcher({ query: "{ me { id } }" }, { headers: {} });
console.log(JSON.stringify([before, answer, after, made[0].wsConnectionParams()]));
"""


async def test_graphiql_sends_the_headers_editors_token_in_connection_init(
    client: httpx.AsyncClient,
) -> None:
    """The fetcher GraphiQL's page builds, run in Node with a stand-in createFetcher."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the page's script cannot be run")
    page = (await client.get("/graphiql/englog/page.js")).text  # the page's script
    start = page.index("let englogAuthorization")
    end = page.index("};", page.index("return englogFetcher(")) + 2
    script = GRAPHIQL_PROBE % page[start:end]
    done = subprocess.run(  # noqa: ASYNC221, S603 (a short local process, our own script)
        [node, "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    before, answer, after, cleared = json.loads(done.stdout)
    assert before == {}
    assert answer == "sent"
    assert after == {"authorization": "Bearer abc"}
    assert cleared == {}


# --- unexpected errors: masked, one log line and one reference each -----------------------


@strawberry.type
class Broken:
    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("a resolver's bug")


class CrashingRule(ASTValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        raise ValueError("a validation rule's bug")


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "englog.graph"]


async def test_an_unexpected_resolver_error_is_logged_once_with_its_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It was logged twice, under two references (Strawberry hands the errors over twice)."""
    schema = Schema(query=Broken, extensions=[ErrorCodes])
    with caplog.at_level("ERROR", logger="englog.graph"):
        result = await schema.execute("{ boom }")
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions is not None
    reference = error.extensions["reference"]
    assert (error.message, error.extensions, error.path) == (
        "Internal server error",
        {"code": "INTERNAL_SERVER_ERROR", "reference": reference},
        ["boom"],
    )
    assert logged(caplog) == [f"unexpected error {reference} in ['boom']"]


async def test_a_crash_before_execution_is_masked_coded_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A validation rule's (or an extension's) exception was answered as its own message,
    with no code and nothing logged ("max() arg is an empty sequence")."""
    schema = Schema(
        query=Broken, extensions=[ErrorCodes, lambda: AddValidationRules([CrashingRule])]
    )
    with caplog.at_level("ERROR", logger="englog.graph"):
        result = await schema.execute("{ boom }")
    assert result.data is None
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions is not None
    reference = error.extensions["reference"]
    assert (error.message, error.extensions) == (
        "Internal server error",
        {"code": "INTERNAL_SERVER_ERROR", "reference": reference},
    )
    assert logged(caplog) == [f"unexpected error {reference} in None"]
    [record] = caplog.records
    assert record.exc_info is not None
    assert record.exc_info[0] is ValueError


# --- the statuses the README promises with application/graphql-response+json --------------


async def test_log_in_over_its_rate_limit_is_429_for_graphql_response_json(
    database_url: str, redis_url: str
) -> None:
    """logIn's limit is checked in its resolver: a field error, which answered 200."""
    settings = make_settings(database_url, redis_url, rate_limit_auth_email="2/600")
    variables = {"e": f"nobody-{uuid.uuid4().hex}@example.com"}  # a bucket of its own
    modern = {"Accept": GRAPHQL_RESPONSE}
    async with serve(settings) as client:
        for _ in range(2):
            wrong = await client.post(
                "/graphql", json={"query": LOG_IN, "variables": variables}, headers=modern
            )
            assert wrong.status_code == 200
            assert wrong.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
        refused = await client.post(
            "/graphql", json={"query": LOG_IN, "variables": variables}, headers=modern
        )
        legacy = await client.post("/graphql", json={"query": LOG_IN, "variables": variables})
    retry = refused.json()["errors"][0]["extensions"]["retryAfter"]
    assert 1 <= retry <= 300
    assert (refused.status_code, refused.headers["content-type"]) == (429, GRAPHQL_RESPONSE)
    assert refused.headers["retry-after"] == str(retry)
    assert refused.json() == {
        "errors": [
            {
                "message": f"Too many requests; retry in {retry} s",
                "locations": [{"line": 1, "column": 25}],
                "path": ["logIn"],
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry},
            }
        ]
    }
    assert legacy.status_code == 200  # application/json: a GraphQL response with data null
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_an_operation_over_the_per_user_limit_is_429_for_graphql_response_json(
    database_url: str, redis_url: str
) -> None:
    settings = make_settings(database_url, redis_url, rate_limit_operations="2/60")
    async with serve(settings) as client:
        account = await Api(client).sign_up()  # a bucket of its own
        headers = {"Authorization": f"Bearer {account.access_token}", "Accept": GRAPHQL_RESPONSE}
        for _ in range(2):
            allowed = await client.post(
                "/graphql", json={"query": "{ me { id } }"}, headers=headers
            )
            assert allowed.json() == {"data": {"me": {"id": account.user_id}}}
        refused = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
    retry = refused.json()["errors"][0]["extensions"]["retryAfter"]
    assert 1 <= retry <= 30
    assert (refused.status_code, refused.headers["retry-after"]) == (429, str(retry))
    assert refused.json() == {
        "errors": [
            {
                "message": f"Too many requests; retry in {retry} s",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry},
            }
        ]
    }
