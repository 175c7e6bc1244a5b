"""Settings of the worker process (ENGLOG_* variables). It has no database or Redis settings."""

from __future__ import annotations

import socket
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.net import is_loopback
from worker.mail import parse_mailbox


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
    # /metrics of the worker (worker/prometheus.py): off unless a port is given (0: any free one).
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    # Traces (core/tracing.py): none, console, or otlp (OTLP over HTTP to otlp_endpoint).
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str | None = None
    # E-mail (worker/mail.py). A worker with neither an SMTP host nor a mailbox file takes no
    # send_email tasks; they wait for one that has.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None  # "EngLog <noreply@example.com>" or a bare address
    # auto: STARTTLS when the server offers it; always: refuse to send without it.
    smtp_starttls: Literal["auto", "always", "never"] = "auto"
    smtp_tls: bool = False  # TLS from the first byte (port 465) instead of STARTTLS
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_ca_file: str | None = None  # trust this CA (a private relay's) instead of the system's
    # Development: e-mails appended to this mbox file (and logged) instead of sent.
    mailbox_file: str | None = None

    @field_validator(
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "smtp_from",
        "smtp_ca_file",
        "mailbox_file",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # Compose passes an unset host variable through as "" (`${ENGLOG_SMTP_HOST:-}`).
        return None if value == "" else value

    @model_validator(mode="after")
    def _refuse_plaintext_off_loopback(self) -> WorkerSettings:
        host = self.api_grpc_address.rsplit(":", 1)[0].strip("[]")
        if self.tls_ca_file is None and (self.env == "production" or not is_loopback(host)):
            raise ValueError(
                "plaintext gRPC is allowed on loopback in development only: "
                "set ENGLOG_TLS_CA_FILE, ENGLOG_TLS_CERT_FILE and ENGLOG_TLS_KEY_FILE"
            )
        return self

    @model_validator(mode="after")
    def _check_mail(self) -> WorkerSettings:
        if self.smtp_host is not None and self.mailbox_file is not None:
            raise ValueError("set ENGLOG_SMTP_HOST or ENGLOG_MAILBOX_FILE, not both")
        if self.smtp_from is not None:
            try:
                parse_mailbox(self.smtp_from)
            except ValueError as exc:
                raise ValueError(f"ENGLOG_SMTP_FROM is not an e-mail address: {exc}") from None
        if self.smtp_host is None:
            return self
        if self.smtp_from is None:
            raise ValueError("ENGLOG_SMTP_FROM is required with ENGLOG_SMTP_HOST")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("set both ENGLOG_SMTP_USERNAME and ENGLOG_SMTP_PASSWORD, or neither")
        in_clear = self.smtp_starttls == "never" and not self.smtp_tls
        if self.smtp_username is not None and in_clear and not is_loopback(self.smtp_host):
            raise ValueError(
                "SMTP credentials would cross the network in clear: use ENGLOG_SMTP_STARTTLS "
                "auto or always, or ENGLOG_SMTP_TLS=true (plaintext is for loopback only)"
            )
        return self
