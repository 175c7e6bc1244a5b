"""What one request may ask for: depth, aliases, tokens, cost, batching, body size, time;
and what production mode adds (no suggestions, CORS by allow-list, security headers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from graphql import get_introspection_query, parse

from db.queries import project as project_queries
from englog.certs import write_certificates
from graph.query_limits import LIST_SIZE, QueryCost, QueryLimits, operation_cost
from graph.schema import build_schema
from tests.factories import Api, make_settings, serve


def production(certs: Path) -> dict[str, Any]:
    files = write_certificates(certs, server_hosts=["127.0.0.1"])
    return {
        "env": "production",
        "jwt_secret": "a-production-secret-of-forty-characters!!",
        "grpc_tls_cert_file": str(files["server_cert"]),
        "grpc_tls_key_file": str(files["server_key"]),
        "grpc_tls_ca_file": str(files["ca"]),
        "allowed_origins": ["https://app.example.com"],
    }


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


async def test_depth_is_limited_but_not_introspection(api: Api) -> None:
    account = await api.sign_up()
    nested = "{ logEntries(first: 1) { edges { node { project { id } } } } }"  # depth 5
    assert "errors" not in await api.post(nested, token=account.access_token)
    # GraphiQL's introspection nests `ofType` deeper than 10: it is not counted.
    assert "errors" not in await api.post(get_introspection_query())
    schema = build_schema(limits=QueryLimits(depth=3))
    result = await schema.execute(nested)
    assert result.errors is not None
    assert "exceeds maximum operation depth of 3" in result.errors[0].message


async def test_more_than_fifteen_aliases_are_refused(api: Api) -> None:
    account = await api.sign_up()
    fifteen = " ".join(f"a{i}: me {{ id }}" for i in range(15))
    assert "errors" not in await api.post(f"{{ {fifteen} }}", token=account.access_token)
    body = await api.post(f"{{ {fifteen} b: me {{ id }} }}", token=account.access_token)
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in body["errors"][0]["message"]


async def test_more_than_a_thousand_tokens_are_refused(api: Api) -> None:
    account = await api.sign_up()
    fields = " ".join(["id"] * 1000)
    body = await api.post(f"{{ me {{ {fields} }} }}", token=account.access_token)
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "1000 tokens" in body["errors"][0]["message"]


@strawberry.type
class Leaf:
    name: str


@strawberry.type
class Middle:
    @strawberry.field
    def leaves(self, first: int = 10) -> list[Leaf]:
        return [Leaf(name=str(i)) for i in range(first)]


@strawberry.type
class Top:
    @strawberry.field
    def middles(self, first: int = 10) -> list[Middle]:
        return [Middle() for _ in range(first)]


@strawberry.type
class Nested:
    @strawberry.field
    def tops(self, first: int = 10) -> list[Top]:
        return [Top() for _ in range(first)]

    @strawberry.field
    def names(self) -> list[str]:
        return ["a"]


def test_cost_multiplies_list_sizes_down_the_tree() -> None:
    schema = strawberry.Schema(query=Nested)._schema
    document = parse(
        "query($n: Int!) { tops(first: $n) { middles(first: 100) { leaves { name } } } }"
    )
    # n tops, n*100 middles, n*100*10 leaves (the argument's default); their names are free
    assert operation_cost(schema, document, None, {"n": 2}) == 2 + 200 + 2000
    assert operation_cost(schema, parse("{ names }"), None, None) == 1  # a root field
    spread = parse(
        "{ ...F } fragment F on Nested "
        "{ tops(first: 3) { middles(first: 1) { leaves(first: 1) { name } } } }"
    )
    assert operation_cost(schema, spread, None, None) == 3 + 3 + 3


# A dashboard's query as Apollo Client sends it: `__typename` added to every selection set.
DASHBOARD = """query Dashboard($from: DateTime!, $to: DateTime!) {
  me { id firstName timezone __typename }
  logEntries(first: 100) {
    edges { cursor node { id title type startTime endTime durationMinutes valueRating
      project { id name color __typename } tags { id name color __typename } __typename }
      __typename }
    pageInfo { hasNextPage endCursor __typename }
    totalCount
    __typename
  }
  projects { id name status color __typename }
  popularTags(limit: 10) { id name usageCount __typename }
  timeAllocation(from: $from, to: $to) {
    totalMinutes byType { key minutes __typename } __typename }
}"""
# me 1; logEntries 1 + 100 edges × (1 + node 1 + project 1 + 20 tags) + pageInfo 1;
# 20 projects; 10 popular tags; timeAllocation 1 + 20 shares.
DASHBOARD_COST = 1 + (1 + 100 * 23 + 1) + 20 + 10 + (1 + 20)


def test_typename_and_other_scalars_add_nothing_to_the_cost() -> None:
    """It was 10,633 with `__typename` (8,080 without): over the limit for Apollo only."""
    schema = build_schema()._schema
    bare = DASHBOARD.replace("__typename", "")
    assert operation_cost(schema, parse(DASHBOARD), None, None) == DASHBOARD_COST == 2354
    assert operation_cost(schema, parse(bare), None, None) == DASHBOARD_COST
    fewer_scalars = "{ logEntries(first: 100) { edges { node { tags { name } } } } }"
    more_scalars = "{ logEntries(first: 100) { edges { node { id title tags { id name } } } } }"
    assert operation_cost(schema, parse(fewer_scalars), None, None) == 1 + 100 * 22
    assert operation_cost(schema, parse(more_scalars), None, None) == 1 + 100 * 22


async def test_an_apollo_dashboard_query_runs_and_answers_its_cost_when_asked(
    api: Api,
) -> None:
    account = await api.sign_up()
    variables = {"from": "2026-11-01T00:00:00+00:00", "to": "2026-11-08T00:00:00+00:00"}
    headers = {"Authorization": f"Bearer {account.access_token}"}
    response = await api.client.post(
        "/graphql",
        json={"query": DASHBOARD, "variables": variables, "extensions": {"cost": True}},
        headers=headers,
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["me"] == {
        "id": account.user_id,
        "firstName": "Ada",
        "timezone": "Europe/London",
        "__typename": "User",
    }
    assert body["extensions"] == {"cost": {"requested": DASHBOARD_COST, "limit": 10_000}}
    # Not asked: no `extensions` entry at all.
    plain = await api.client.post(
        "/graphql", json={"query": DASHBOARD, "variables": variables}, headers=headers
    )
    assert "extensions" not in plain.json()
    assert plain.json()["data"] == body["data"]


def test_fragments_spread_many_times_are_walked_once() -> None:
    """Sixty fragments, each spreading the next twice: 2^60 paths that the depth, alias and
    cost walks used to follow one by one."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60))
    leaf = "fragment F60 on Query { me { id } }"
    schema = build_schema()._schema
    assert operation_cost(schema, parse(f"{{ ...F0 }} {chain} {leaf}"), None, None) == 2**60


async def test_documents_of_doubling_fragments_are_answered_or_refused_at_once() -> None:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60))
    schema = build_schema()
    plain = await schema.execute(f"{{ ...F0 }} {chain} fragment F60 on Query {{ __typename }}")
    assert (plain.data, plain.errors) == ({"__typename": "Query"}, None)
    aliased = await schema.execute(f"{{ ...F0 }} {chain} fragment F60 on Query {{ a: __typename }}")
    assert aliased.errors is not None
    assert [error.message for error in aliased.errors] == [f"{2**60} aliases found. Allowed: 15"]


async def test_first_100_under_three_nested_lists_is_refused_before_execution() -> None:
    executed: list[str] = []

    @strawberry.type
    class Query(Nested):
        @strawberry.field
        def side_effect(self) -> str:
            executed.append("ran")
            return "ran"

    schema = strawberry.Schema(query=Query, extensions=[lambda: QueryCost(max_cost=10_000)])
    query = """query($n: Int!) { sideEffect
      tops(first: $n) { middles(first: $n) { leaves(first: $n) { name } } } }"""
    result = await schema.execute(query, variable_values={"n": 100})
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["maxCost"] == 10_000
    assert result.errors[0].extensions["cost"] > 1_000_000
    assert executed == []
    ok = await schema.execute(query, variable_values={"n": 10})  # 1 + 10 + 100 + 1,000
    assert ok.errors is None
    assert executed == ["ran"]


async def test_costly_pages_of_the_real_schema_are_refused(api: Api) -> None:
    account = await api.sign_up()
    page = "logEntries(first: 100) { edges { node { id tags { name } } } }"
    assert "errors" not in await api.post(f"{{ {page} }}", token=account.access_token)
    many = " ".join(f"a{i}: {page}" for i in range(10))
    body = await api.post(f"{{ {many} }}", token=account.access_token)
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["errors"][0]["extensions"]["cost"] > 10_000
    assert body["data"] is None
    assert LIST_SIZE == 20  # the tags of each entry are assumed 20: 10 × 100 × 20 > 10,000


async def test_operation_batching_is_off(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[{"query": "{ __typename }"}] * 2)
    assert response.status_code == 400


async def test_a_body_over_the_cap_is_refused_with_413(database_url: str, redis_url: str) -> None:
    settings = make_settings(database_url, redis_url, max_body_bytes=4096)
    async with serve(settings) as client:
        big = {"query": "{ __typename }", "variables": {"pad": "x" * 5000}}
        response = await client.post("/graphql", json=big)
        assert response.status_code == 413
        assert codes(response.json()) == ["PAYLOAD_TOO_LARGE"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as read
            yield b'{"query": "{ __typename }", "variables": {"pad": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}}'

        response = await client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        small = await client.post("/graphql", json={"query": "{ __typename }"})
        assert small.json() == {"data": {"__typename": "Query"}}


async def test_an_operation_over_the_time_limit_is_cancelled_and_rolled_back(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(database_url, redis_url, request_timeout_seconds=0.5)
    create = 'mutation { createProject(input: {name: "Slow"}) { id } }'
    async with serve(settings) as client:
        api = Api(client)
        account = await api.sign_up()
        original = project_queries.create_project

        async def slow(*args: Any, **kwargs: Any) -> Any:
            row = await original(*args, **kwargs)  # written inside the transaction …
            await asyncio.sleep(5)  # … which never gets to commit
            return row

        monkeypatch.setattr(project_queries, "create_project", slow)
        response = await client.post(
            "/graphql",
            json={"query": create},
            headers={
                "Authorization": f"Bearer {account.access_token}",
                "Accept": "application/graphql-response+json",
            },
        )
        assert response.status_code == 504
        assert codes(response.json()) == ["TIMEOUT"]
        monkeypatch.undo()
        data = await api.data("{ projects { name } }", token=account.access_token)
        assert data == {"projects": []}


async def test_production_has_no_suggestions_strict_cors_and_security_headers(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, redis_url, **production(tmp_path))
    async with serve(settings) as client:
        typo = await client.post("/graphql", json={"query": "{ mee { id } }"})
        message = typo.json()["errors"][0]["message"]
        assert "Cannot query field 'mee'" in message
        assert "Did you mean" not in message
        assert typo.headers["x-content-type-options"] == "nosniff"
        assert typo.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in typo.headers["content-security-policy"]
        assert typo.headers["strict-transport-security"].startswith("max-age=")
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = await client.options(
            "/graphql", headers={"Origin": "https://app.example.com", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        refused = await client.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers
        assert (await client.get("/graphql")).status_code != 200  # no GraphiQL


async def test_development_suggests_fields(api: Api) -> None:
    body = await api.post("{ mee { id } }")
    assert "Did you mean 'me'?" in body["errors"][0]["message"]
