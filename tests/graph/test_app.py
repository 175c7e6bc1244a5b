"""Probes, production settings and the masking of unexpected errors."""

from __future__ import annotations

import httpx
import pytest
import strawberry
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from englog.certs import write_certificates
from graph.errors import ErrorCodes, NotFound
from graph.settings import ApiSettings
from tests.factories import make_settings, serve

# A random secret (`secrets.token_urlsafe(48)`): production refuses guessable ones.
SECRET = "XVlPy8PFXRE00IZbkK97BzPk3IX6mwrbD-8HEseXzMfYXwLSiBmieCs5dBlD-PXG"


async def test_health_ready_and_live_report_both_services(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    assert (health.status_code, health.json()) == (
        200,
        {"status": "ok", "database": "ok", "redis": "ok"},
    )
    ready = await client.get("/ready")
    assert (ready.status_code, ready.json()) == (
        200,
        {"ready": True, "database": "ok", "redis": "ok"},
    )
    live = await client.get("/live")
    assert (live.status_code, live.text) == (200, "ok")


async def test_ready_is_503_and_health_degraded_when_the_database_is_unreachable(
    redis_url: str,
) -> None:
    # Port 1 on loopback: nothing listens there, so connecting fails at once.
    settings = make_settings("postgresql://postgres@127.0.0.1:1/none", redis_url)
    async with serve(settings) as client:
        ready = await client.get("/ready")
        health = await client.get("/health")
    assert (ready.status_code, ready.json()) == (
        503,
        {"ready": False, "database": "unavailable", "redis": "ok"},
    )
    assert (health.status_code, health.json()["status"]) == (503, "degraded")


async def test_operations_answer_service_unavailable_while_the_database_is_unreachable(
    redis_url: str,
) -> None:
    settings = make_settings("postgresql://postgres@127.0.0.1:1/none", redis_url)
    async with serve(settings) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": 'mutation { logIn(email: "a@b.io", password: "long enough") '
                "{ accessToken } }"
            },
        )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert error["message"] == "The service is temporarily unavailable; try again shortly"


async def test_health_reports_redis_down_but_stays_ready(database_url: str) -> None:
    settings = make_settings(database_url, "redis://127.0.0.1:1/0")
    async with serve(settings) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
    assert (health.status_code, health.json()) == (
        200,
        {"status": "degraded", "database": "ok", "redis": "unavailable"},
    )
    assert ready.status_code == 200


@pytest.mark.parametrize("secret", ["", "changeme", "dev-secret-change-me", "short-but-real"])
def test_production_refuses_a_placeholder_or_short_jwt_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="ENGLOG_JWT_SECRET"):
        ApiSettings(env="production", jwt_secret=secret)


@pytest.fixture(scope="module")
def grpc_tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    paths = write_certificates(tmp_path_factory.mktemp("certs"), server_hosts=["127.0.0.1"])
    return {
        "grpc_tls_cert_file": str(paths["server_cert"]),
        "grpc_tls_key_file": str(paths["server_key"]),
        "grpc_tls_ca_file": str(paths["ca"]),
    }


def test_production_refuses_introspection_or_graphiql_switched_on(
    grpc_tls: dict[str, str],
) -> None:
    secret = SECRET
    with pytest.raises(ValidationError, match="introspection"):
        ApiSettings.model_validate(
            {"env": "production", "jwt_secret": secret, "introspection": True, **grpc_tls}
        )
    with pytest.raises(ValidationError, match="GraphiQL"):
        ApiSettings.model_validate(
            {"env": "production", "jwt_secret": secret, "graphiql": True, **grpc_tls}
        )
    settings = ApiSettings.model_validate({"env": "production", "jwt_secret": secret, **grpc_tls})
    assert (settings.introspection_enabled, settings.graphiql_enabled) == (False, False)


def test_production_refuses_plaintext_grpc_even_on_loopback() -> None:
    with pytest.raises(ValidationError, match="gRPC must use mTLS in production"):
        ApiSettings(env="production", jwt_secret=SECRET, grpc_host="127.0.0.1")


def test_plaintext_grpc_is_refused_off_loopback_and_half_a_tls_setup_is_refused(
    grpc_tls: dict[str, str],
) -> None:
    with pytest.raises(ValidationError, match="plaintext gRPC is allowed on loopback only"):
        ApiSettings(grpc_host="0.0.0.0")  # noqa: S104 - the refused case
    with pytest.raises(ValidationError, match="together"):
        ApiSettings(grpc_tls_cert_file=grpc_tls["grpc_tls_cert_file"])
    assert ApiSettings.model_validate({"grpc_host": "0.0.0.0", **grpc_tls}).grpc_tls  # noqa: S104


def test_half_an_https_setup_is_refused() -> None:
    for half in ({"tls_cert_file": "server.pem"}, {"tls_key_file": "server-key.pem"}):
        with pytest.raises(ValidationError, match="ENGLOG_TLS_CERT_FILE and ENGLOG_TLS_KEY_FILE"):
            ApiSettings.model_validate(half)


async def test_production_app_has_no_introspection_and_no_graphiql(
    database_url: str, redis_url: str, grpc_tls: dict[str, str]
) -> None:
    settings = make_settings(
        database_url, redis_url, env="production", jwt_secret=SECRET, **grpc_tls
    )
    async with serve(settings) as client:
        introspection = await client.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}
        )
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
    assert introspection.json()["data"] is None
    assert introspection.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert ide.status_code == 404


def test_unexpected_errors_are_masked_and_expected_ones_keep_their_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def broken(self) -> int:
            raise RuntimeError("password=hunter2 leaked in a message")

        @strawberry.field
        def missing(self) -> int:
            raise NotFound("Thing")

    schema = strawberry.Schema(query=Query, extensions=[ErrorCodes])
    with caplog.at_level("ERROR", logger="englog.graph"):
        result = schema.execute_sync("{ broken }")
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "Internal server error"
    assert error.extensions is not None
    reference = error.extensions["reference"]
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "reference": reference}
    assert reference in caplog.text
    assert "hunter2" not in error.message

    result = schema.execute_sync("{ missing }")
    assert result.errors is not None
    assert (result.errors[0].message, result.errors[0].extensions) == (
        "Thing not found",
        {"code": "NOT_FOUND"},
    )


def test_an_exhausted_pool_is_service_unavailable_but_other_os_errors_stay_internal() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def pool(self) -> int:
            raise sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached")

        @strawberry.field
        def file(self) -> int:
            raise FileNotFoundError("/etc/englog/secret")

    schema = strawberry.Schema(query=Query, extensions=[ErrorCodes])
    pool = schema.execute_sync("{ pool }")
    assert pool.errors is not None
    assert pool.errors[0].extensions == {"code": "SERVICE_UNAVAILABLE"}
    file = schema.execute_sync("{ file }")
    assert file.errors is not None
    assert file.errors[0].extensions is not None
    assert file.errors[0].extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert "/etc/englog" not in file.errors[0].message
