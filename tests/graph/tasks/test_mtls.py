"""mTLS on the worker protocol: the right client certificate in, anything else out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import grpc.aio
import pytest
from asgi_lifespan import LifespanManager

from englog.certs import write_certificates
from graph.app import create_app
from graph.context import AppState
from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from tests.factories import make_settings


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_certificates(tmp_path_factory.mktemp("certs"), server_hosts=["127.0.0.1"])


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_certificates(
        tmp_path_factory.mktemp("other"), server_hosts=["127.0.0.1"], ca_name="Someone else"
    )


@pytest.fixture
async def tls_port(database_url: str, redis_url: str, certs: dict[str, Path]) -> AsyncIterator[int]:
    settings = make_settings(
        database_url,
        redis_url,
        grpc_tls_cert_file=str(certs["server_cert"]),
        grpc_tls_key_file=str(certs["server_key"]),
        grpc_tls_ca_file=str(certs["ca"]),
    )
    application = create_app(settings)
    async with LifespanManager(application):
        state: AppState = application.state.englog
        yield state.grpc_port


async def _register(port: int, credentials: grpc.ChannelCredentials) -> pb.RegisterWorkerResponse:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        client = WorkerClient(channel)
        return await client.register_worker(
            pb.RegisterWorkerRequest(worker_id=str(uuid.uuid4()), name="tls"), timeout=5
        )


def _credentials(
    ca: Path, cert: Path | None = None, key: Path | None = None
) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )


async def test_a_worker_with_the_client_certificate_registers(
    tls_port: int, certs: dict[str, Path]
) -> None:
    credentials = _credentials(certs["ca"], certs["client_cert"], certs["client_key"])
    response = await _register(tls_port, credentials)
    assert response.session_token


async def test_a_worker_without_a_client_certificate_is_refused(
    tls_port: int, certs: dict[str, Path]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _register(tls_port, _credentials(certs["ca"]))
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_client_certificate_from_another_ca_is_refused(
    tls_port: int, certs: dict[str, Path], other_certs: dict[str, Path]
) -> None:
    credentials = _credentials(certs["ca"], other_certs["client_cert"], other_certs["client_key"])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _register(tls_port, credentials)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_plaintext_is_refused_by_a_tls_server(tls_port: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{tls_port}") as channel:
        client = WorkerClient(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await client.register_worker(
                pb.RegisterWorkerRequest(worker_id=str(uuid.uuid4())), timeout=5
            )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
