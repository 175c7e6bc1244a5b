"""`englog api` serving HTTPS itself (ENGLOG_TLS_CERT_FILE / _KEY_FILE): GraphQL over https://,
subscriptions over wss://, and nothing over plain HTTP on that port."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from englog.certs import write_certificates
from tests.e2e.processes import HOST, Launcher
from tests.live import ws_client

pytestmark = pytest.mark.slow


async def test_the_api_serves_https_and_wss_itself(launcher: Launcher, tmp_path: Path) -> None:
    paths = write_certificates(tmp_path / "certs", server_hosts=[HOST, "localhost"])
    api = await launcher.api(
        {
            "ENGLOG_TLS_CERT_FILE": str(paths["server_cert"]),
            "ENGLOG_TLS_KEY_FILE": str(paths["server_key"]),
        },
        ca_file=str(paths["ca"]),
    )
    trusted = ssl.create_default_context(cafile=str(paths["ca"]))

    async with httpx.AsyncClient(base_url=api.base_url, verify=trusted) as client:
        answer = await client.post("/graphql", json={"query": "{ __typename }"})
    assert api.base_url.startswith("https://")
    assert (answer.status_code, answer.json()) == (200, {"data": {"__typename": "Query"}})

    async with ws_client(f"wss://{HOST}:{api.http_port}/graphql", ssl_context=trusted) as socket_:
        await socket_.init({})
        await socket_.socket.wait_closed()
    assert (
        socket_.socket.close_code == 4403
    )  # over TLS, then refused without a token, as over ws://

    async with httpx.AsyncClient(base_url=f"http://{HOST}:{api.http_port}") as plain:
        with pytest.raises(httpx.TransportError):
            await plain.get("/live")
    with pytest.raises(httpx.ConnectError):  # a certificate of no trusted CA
        async with httpx.AsyncClient(base_url=api.base_url) as untrusting:
            await untrusting.get("/live")
