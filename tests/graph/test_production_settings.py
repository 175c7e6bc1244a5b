"""What production refuses at start-up (guessable JWT secrets) and what it hides from clients
("Did you mean …?" suggestions of every kind, over HTTP and websockets)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from englog.certs import write_certificates
from graph.settings import DEV_JWT_SECRET, ApiSettings
from tests.factories import Api, make_settings, serve
from tests.live import Server, live_server, logged_in


@pytest.fixture(scope="module")
def grpc_tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    paths = write_certificates(tmp_path_factory.mktemp("certs"), server_hosts=["127.0.0.1"])
    return {
        "grpc_tls_cert_file": str(paths["server_cert"]),
        "grpc_tls_key_file": str(paths["server_key"]),
        "grpc_tls_ca_file": str(paths["ca"]),
    }


# --- JWT secrets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("a" * 32, "repeats a shorter string"),
        (DEV_JWT_SECRET * 2, "contains a public placeholder"),
        ("secret" * 6, "repeats a shorter string"),
        ("x" + DEV_JWT_SECRET.upper() + secrets.token_hex(16), "contains a public placeholder"),
        ("abcdefghij" + "a" * 30, "has less than 128 bits of estimated entropy"),
        ("abcabcabcabcabcabcabcabcabcabcab", "repeats a shorter string"),
        ("aAbBcCdDeE" * 3 + "aA", "repeats a shorter string"),
        ("aAbBcCdD" + "f" * 31, "has fewer than 10 distinct characters"),
    ],
    ids=[
        "32-a",
        "placeholder-twice",
        "secret-6-times",
        "placeholder-inside",
        "low-entropy",
        "abc-repeated",
        "unit-of-10-repeated",
        "9-distinct",
    ],
)
def test_production_refuses_a_guessable_jwt_secret_and_says_how_to_make_one(
    secret: str, why: str, grpc_tls: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as refused:
        ApiSettings.model_validate({"env": "production", "jwt_secret": secret, **grpc_tls})
    message = str(refused.value)
    assert f"ENGLOG_JWT_SECRET {why}" in message
    assert "make one with `openssl rand -base64 48`" in message


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_hex(32),  # `openssl rand -hex 32`: 64 hex digits
        lambda: secrets.token_urlsafe(48),  # `openssl rand -base64 48`: 64 characters
        lambda: "test-secret-that-is-long-enough-for-hs256!",  # the tests' own production one
    ],
    ids=["hex-32", "base64-48", "tests"],
)
def test_production_starts_with_a_random_jwt_secret(make: Any, grpc_tls: dict[str, str]) -> None:
    for _ in range(200):  # random draws: none may be refused
        secret = make()
        settings = ApiSettings.model_validate(
            {"env": "production", "jwt_secret": secret, **grpc_tls}
        )
        assert (settings.production, settings.jwt_secret) == (True, secret)


def test_development_keeps_its_placeholder_secret() -> None:
    assert ApiSettings().jwt_secret == DEV_JWT_SECRET


# --- suggestions ------------------------------------------------------------------------

# Documents graphql-core answers with a "Did you mean …?": the message production gives, and
# the one development gives.
TYPOS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "{ logEntries(frist: 1) { totalCount } }",
        {},
        "Unknown argument 'frist' on field 'Query.logEntries'.",
        "Unknown argument 'frist' on field 'Query.logEntries'. Did you mean 'first'?",
    ),
    (
        "{ me { ...F } } fragment F on Usr { id }",
        {},
        "Unknown type 'Usr'.",
        "Unknown type 'Usr'. Did you mean 'User'?",
    ),
    (
        "query Q($f: LogEntryFiltr) { logEntries(filter: $f) { totalCount } }",
        {},
        "Unknown type 'LogEntryFiltr'.",
        "Unknown type 'LogEntryFiltr'. Did you mean 'LogEntryFilter', 'LogEntry',"
        " 'LogEntryEdge', or 'LogEntryEvent'?",
    ),
    (
        "{ insights(kind: DAILY_SUMARY) { totalCount } }",
        {},
        "Value 'DAILY_SUMARY' does not exist in 'InsightKind' enum.",
        "Value 'DAILY_SUMARY' does not exist in 'InsightKind' enum."
        " Did you mean the enum value 'DAILY_SUMMARY'?",
    ),
    (
        "query Q($k: InsightKind) { insights(kind: $k) { totalCount } }",
        {"k": "DAILY_SUMARY"},
        "Variable '$k' has invalid value: Value 'DAILY_SUMARY' does not exist"
        " in 'InsightKind' enum.",
        "Variable '$k' has invalid value: Value 'DAILY_SUMARY' does not exist"
        " in 'InsightKind' enum. Did you mean the enum value 'DAILY_SUMMARY'?",
    ),
    (
        '{ logEntries(filter: {serach: "x"}) { totalCount } }',
        {},
        "Expected value of type 'LogEntryFilter' not to include unknown field 'serach',"
        ' found: { serach: "x" }.',
        "Expected value of type 'LogEntryFilter' not to include unknown field 'serach'."
        " Did you mean 'search'? Found: { serach: \"x\" }.",
    ),
    (
        "query Q($f: LogEntryFilter) { logEntries(filter: $f) { totalCount } }",
        {"f": {"serach": "x"}},
        "Variable '$f' has invalid value: Expected value of type 'LogEntryFilter'"
        " not to include unknown field 'serach', found: {'serach': 'x'}.",
        "Variable '$f' has invalid value: Expected value of type 'LogEntryFilter'"
        " not to include unknown field 'serach'. Did you mean 'search'? Found: {'serach': 'x'}.",
    ),
]


KINDS = [
    "argument",
    "fragment-type",
    "variable-type",
    "enum-literal",
    "enum-variable",
    "input-field-literal",
    "input-field-variable",
]


@pytest.fixture(scope="module")
async def production_client(
    database_url: str, redis_url: str, grpc_tls: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url, redis_url, env="production", **grpc_tls)
    async with serve(settings) as client:
        yield client


def _messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body["errors"]]


@pytest.mark.parametrize(("query", "variables", "production", "development"), TYPOS, ids=KINDS)
async def test_production_suggests_no_names_of_any_kind(
    production_client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    production: str,
    development: str,
) -> None:
    body = await Api(production_client).post(query, variables)
    assert _messages(body) == [production]


@pytest.mark.parametrize(("query", "variables", "production", "development"), TYPOS, ids=KINDS)
async def test_development_still_suggests_names(
    api: Api, query: str, variables: dict[str, Any], production: str, development: str
) -> None:
    body = await api.post(query, variables)
    assert _messages(body) == [development]


@pytest.fixture(scope="module")
async def production_server(
    database_url: str, redis_url: str, grpc_tls: dict[str, str]
) -> AsyncIterator[Server]:
    async with live_server(database_url, redis_url, env="production", **grpc_tls) as running:
        yield running


async def test_production_suggests_nothing_over_websockets(production_server: Server) -> None:
    async with httpx.AsyncClient(base_url=production_server.http_url) as http:
        account = await Api(http).sign_up()
    async with logged_in(production_server, account.access_token) as client:
        typo = "subscription { insightEvents(snice: null) { cursor } }"
        assert await client.execute(typo) == [
            {
                "id": "1",
                "type": "error",
                "payload": [
                    {
                        "message": "Unknown argument 'snice' on field"
                        " 'Subscription.insightEvents'.",
                        "locations": [{"line": 1, "column": 30}],
                        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                    }
                ],
            }
        ]
        await client.send(
            {
                "id": "2",
                "type": "subscribe",
                "payload": {
                    "query": "subscription S($s: String) { insightEvents(since: $s) { cursor } }"
                    " fragment F on Insigth { id }",
                },
            }
        )
        answer = await client.receive()
        assert [error["message"] for error in answer["payload"]] == [
            "Unknown type 'Insigth'.",
            "Fragment 'F' is never used.",
        ]
