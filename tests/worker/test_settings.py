from __future__ import annotations

import pytest
from pydantic import ValidationError

from worker.settings import WorkerSettings


def test_plaintext_grpc_is_allowed_on_loopback_in_development() -> None:
    assert WorkerSettings(api_grpc_address="127.0.0.1:50051").tls_ca_file is None
    assert WorkerSettings(api_grpc_address="localhost:50051").tls_ca_file is None


@pytest.mark.parametrize(
    "values",
    [
        {"api_grpc_address": "api.internal:50051"},
        {"api_grpc_address": "10.0.0.5:50051"},
        {"api_grpc_address": "127.0.0.1:50051", "env": "production"},
    ],
)
def test_plaintext_grpc_is_refused_off_loopback_or_in_production(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="plaintext gRPC is allowed on loopback"):
        WorkerSettings.model_validate(values)


def test_tls_settings_allow_any_address() -> None:
    settings = WorkerSettings.model_validate(
        {"api_grpc_address": "api.internal:50051", "env": "production", "tls_ca_file": "ca.pem"}
    )
    assert settings.tls_ca_file == "ca.pem"
