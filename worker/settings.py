"""Settings of the worker process (ENGLOG_* variables). It has no database or Redis settings."""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.settings import is_loopback


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENGLOG_", extra="ignore")

    env: Literal["development", "production"] = "development"
    api_grpc_address: str = "127.0.0.1:50051"
    worker_name: str = Field(default_factory=socket.gethostname)
    max_concurrent_tasks: int = Field(default=2, ge=1, le=64)
    # None: no Ollama; insights come from the built-in summariser (model "builtin").
    ollama_host: str | None = None
    ollama_model: str = "llama3.2:3b"
    ollama_num_ctx: int = Field(default=4096, ge=512)
    task_timeout_seconds: float = Field(default=300.0, gt=0)
    ollama_retries: int = Field(default=2, ge=0)  # extra tries of a transient Ollama failure
    ollama_retry_backoff_seconds: float = Field(default=1.0, ge=0)
    breaker_failures: int = Field(default=5, ge=1)  # consecutive failures that open the circuit
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    # /metrics of the worker (worker/metrics.py): off unless a port is given (0: any free one).
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    # Traces (englog/tracing.py): none, console, or otlp (OTLP over HTTP to otlp_endpoint).
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str | None = None

    @model_validator(mode="after")
    def _refuse_plaintext_off_loopback(self) -> WorkerSettings:
        host = self.api_grpc_address.rsplit(":", 1)[0].strip("[]")
        if self.tls_ca_file is None and (self.env == "production" or not is_loopback(host)):
            raise ValueError(
                "plaintext gRPC is allowed on loopback in development only: "
                "set ENGLOG_TLS_CA_FILE, ENGLOG_TLS_CERT_FILE and ENGLOG_TLS_KEY_FILE"
            )
        return self
