"""GraphQL over HTTP: methods, media types and status codes (graphql-over-http spec)."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest

GRAPHQL_RESPONSE = "application/graphql-response+json"


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
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
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
