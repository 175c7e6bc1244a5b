"""gRPC with mutual TLS between real processes: certificates from `englog certs`, an API that
requires a client certificate from its CA, and workers with and without one."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.processes import REGISTERED, UNREACHABLE, Launcher
from tests.e2e.support import Database, request_insight
from tests.factories import Api

pytestmark = pytest.mark.slow


async def test_only_a_worker_with_a_client_certificate_from_the_api_ca_gets_tasks(
    launcher: Launcher, db: Database
) -> None:
    ours, theirs = launcher.directory / "certs", launcher.directory / "other-certs"
    await launcher.run("certs", "englog.cli", "certs", str(ours))
    await launcher.run("certs-other", "englog.cli", "certs", str(theirs))
    api = await launcher.api(
        {
            "ENGLOG_GRPC_HOST": "127.0.0.1",
            "ENGLOG_GRPC_TLS_CERT_FILE": str(ours / "server.pem"),
            "ENGLOG_GRPC_TLS_KEY_FILE": str(ours / "server-key.pem"),
            "ENGLOG_GRPC_TLS_CA_FILE": str(ours / "ca.pem"),
        },
        name="api-mtls",
    )
    assert "(mTLS)" in api.proc.output()
    # Trusts the API's certificate but has no certificate of its own.
    anonymous = await launcher.worker(
        api, {"ENGLOG_TLS_CA_FILE": str(ours / "ca.pem")}, name="worker-no-cert", wait=False
    )
    # Trusts the API's certificate, presents one signed by another CA.
    stranger = await launcher.worker(
        api,
        {
            "ENGLOG_TLS_CA_FILE": str(ours / "ca.pem"),
            "ENGLOG_TLS_CERT_FILE": str(theirs / "client.pem"),
            "ENGLOG_TLS_KEY_FILE": str(theirs / "client-key.pem"),
        },
        name="worker-other-ca",
        wait=False,
    )
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30.0) as client:
        account = await Api(client).sign_up()
        insight_id = await request_insight(Api(client), account)

    for refused in (anonymous, stranger):
        output = await refused.wait_for_output(UNREACHABLE)
        assert f"{UNREACHABLE} (StatusCode.UNAVAILABLE)" in output
        assert REGISTERED not in output
    assert (await db.insight(insight_id))["status"] == "PENDING"
    task = await db.task_of(insight_id)
    assert (task["status"], task["attempts"]) == ("queued", 0)

    await launcher.worker(
        api,
        {
            "ENGLOG_TLS_CA_FILE": str(ours / "ca.pem"),
            "ENGLOG_TLS_CERT_FILE": str(ours / "client.pem"),
            "ENGLOG_TLS_KEY_FILE": str(ours / "client-key.pem"),
        },
        name="worker-mtls",
    )
    row = await db.wait_for_insight(insight_id)

    assert (row["status"], row["model"], row["attempts"]) == ("COMPLETED", "builtin", 1)
    for refused in (anonymous, stranger):
        assert REGISTERED not in refused.output()
