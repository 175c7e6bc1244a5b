"""Settings of the API process, read from ENGLOG_* variables and validated at start-up."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from strawberry.http.websocket_origin import normalize_allowed_origins

from core.net import is_loopback as is_loopback  # importable from here as before
from graph.limits import Rule

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev-secret-change-me"})
DEV_JWT_SECRET = "dev-secret-change-me"  # noqa: S105 - the placeholder production refuses


# A production JWT secret must look random: long, varied, with no repeated unit and no
# public placeholder in it. The entropy is estimated from the string's own character
# frequencies, so it flatters a secret (it cannot see words), never punishes a random one:
# `openssl rand -base64 48` estimates ~300 bits, `openssl rand -hex 32` ~220.
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARS = 10
MIN_SECRET_ENTROPY_BITS = 128
HOW_TO_MAKE_ONE = "make one with `openssl rand -base64 48`"
_PUBLIC_PLACEHOLDERS = (DEV_JWT_SECRET, "changeme", "change-me")


def estimated_entropy_bits(text: str) -> float:
    """Shannon entropy of the text's character frequencies, times its length."""
    counts = Counter(text)
    return -sum(n * math.log2(n / len(text)) for n in counts.values())


def _repeated_unit(text: str) -> bool:
    """Whether the text is a shorter unit written at least twice (`abcabcab` counts)."""
    return any(
        all(text[i] == text[i + period] for i in range(len(text) - period))
        for period in range(1, len(text) // 2 + 1)
    )


def weak_secret(secret: str) -> str | None:
    """Why a secret is too guessable for production, or None when it is not."""
    folded = secret.strip().lower()
    if folded in PLACEHOLDER_SECRETS:
        return "is missing or a placeholder"
    if any(placeholder in folded for placeholder in _PUBLIC_PLACEHOLDERS):
        return "contains a public placeholder"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if _repeated_unit(secret):
        return "repeats a shorter string"
    if len(set(secret)) < MIN_SECRET_DISTINCT_CHARS:
        return f"has fewer than {MIN_SECRET_DISTINCT_CHARS} distinct characters"
    if estimated_entropy_bits(secret) < MIN_SECRET_ENTROPY_BITS:
        return f"has less than {MIN_SECRET_ENTROPY_BITS} bits of estimated entropy"
    return None


class ApiSettings(BaseSettings):
    """Everything the API process reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="ENGLOG_", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/englog"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # How long one Redis command may take before it counts as Redis being away (the
    # denylist then asks PostgreSQL, rate limits follow RATE_LIMIT_FAIL, …): a slow Redis must
    # not hold every request. Connecting gets the same bound.
    redis_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    jwt_secret: str = DEV_JWT_SECRET
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051  # 0 picks a free port (tests)
    # mTLS for the worker protocol: the server's certificate and key, and the CA that signed
    # the workers' client certificates. Without them gRPC is plaintext, loopback only.
    grpc_tls_cert_file: str | None = None
    grpc_tls_key_file: str | None = None
    grpc_tls_ca_file: str | None = None
    # HTTPS served by the API itself (HTTP, GraphQL and wss://): its certificate and key.
    # Behind a TLS-terminating proxy (docker-compose.yml) they stay unset.
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    task_lease_seconds: float = Field(default=30.0, gt=0)
    heartbeat_interval_seconds: float = Field(default=10.0, gt=0)
    task_poll_seconds: float = Field(default=2.0, gt=0)  # fallback when NOTIFY is missed
    access_token_ttl_seconds: int = Field(default=15 * 60, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    # A rotated refresh token presented again this soon, its successor unused, gets the same
    # new pair (a lost answer) instead of revoking the session (reuse). 0: no grace.
    refresh_grace_seconds: float = Field(default=30.0, ge=0, le=300)
    # argon2id cost; tests lower it, production keeps the library's recommended defaults.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_cost_kib: int = Field(default=65536, ge=8)
    db_pool_size: int = Field(default=10, ge=1)
    introspection: bool | None = None  # None: on in development, off in production
    graphiql: bool | None = None
    web: bool = True  # the web app at / (graph/web.py); off: / answers 404
    # Browser origins whose pages may open the /graphql websocket: a JSON list or
    # comma-separated. Empty: any origin in development, none (but same-origin) in production.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Websockets (graphql-transport-ws): server pings, how often a live connection's token is
    # checked against the denylist, and the caps per connection and per user (all processes).
    ws_ping_seconds: float = Field(default=15.0, gt=0)
    ws_auth_recheck_seconds: float = Field(default=60.0, gt=0)
    ws_connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_max_subscriptions_per_connection: int = Field(default=20, ge=1)
    ws_max_connections_per_user: int = Field(default=10, ge=1)
    # permessage-deflate on websockets (`englog api`). Off: live frames are small JSON, a
    # compressor per socket costs tens of KiB and CPU on every frame, and uncompressed, the
    # same frame's bytes are built once and written to every socket (graph/live/fanout.py).
    ws_per_message_deflate: bool = False
    # What one request may ask for (graph/query_limits.py), and how long it may run.
    max_query_depth: int = Field(default=10, ge=1)
    max_query_aliases: int = Field(default=15, ge=0)
    max_query_tokens: int = Field(default=1000, ge=10)
    max_query_cost: int = Field(default=10_000, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    # Rate limits (graph/limits.py), "COUNT/SECONDS" each; off only in development.
    rate_limits: bool = True
    rate_limit_fail: Literal["open", "closed"] = "open"  # when Redis cannot be asked
    rate_limit_operations: str = "600/60"  # queries and mutations, per user (or IP)
    rate_limit_auth_ip: str = "30/60"  # logIn and signUp, per client IP
    rate_limit_auth_email: str = "10/600"  # logIn and signUp, per e-mail address
    rate_limit_insights: str = "60/3600"  # requestInsight, per user
    rate_limit_exports: str = "10/3600"  # GET /export and exportMyData, per user
    # Traces (core/tracing.py): none, console, or otlp (OTLP over HTTP to otlp_endpoint).
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str | None = None
    # /metrics (Prometheus): when set, a scrape must send `Authorization: Bearer <this>`.
    metrics_token: str | None = None
    # Garbage collection (graph/live/gc_policy.py): how often long-lived objects are frozen out of
    # the collector's walks (0: never), and how often one full collection reclaims cycles.
    gc_freeze_seconds: float = Field(default=10.0, ge=0)
    gc_full_collect_seconds: float = Field(default=600.0, gt=0)
    # The scheduler (graph/schedules/runner.py): weekly reports, daily summaries, reminders
    # and clean-up, run by one API process at a time. Every process tries to take the lead
    # this often, so a successor takes over within it: at most a minute.
    scheduler: bool = True
    scheduler_interval_seconds: float = Field(default=30.0, gt=0, le=60)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        normalize_allowed_origins(value)  # the view's own check, at start-up: ValueError if bad
        return value

    @field_validator(
        "rate_limit_operations",
        "rate_limit_auth_ip",
        "rate_limit_auth_email",
        "rate_limit_insights",
        "rate_limit_exports",
    )
    @classmethod
    def _check_rule(cls, value: str) -> str:
        Rule.parse(value)
        return value

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def introspection_enabled(self) -> bool:
        return (not self.production) if self.introspection is None else self.introspection

    @property
    def graphiql_enabled(self) -> bool:
        return (not self.production) if self.graphiql is None else self.graphiql

    @property
    def grpc_tls(self) -> bool:
        return bool(self.grpc_tls_cert_file and self.grpc_tls_key_file and self.grpc_tls_ca_file)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> ApiSettings:
        tls_files = (self.grpc_tls_cert_file, self.grpc_tls_key_file, self.grpc_tls_ca_file)
        if any(tls_files) and not all(tls_files):
            raise ValueError(
                "gRPC mTLS needs ENGLOG_GRPC_TLS_CERT_FILE, _KEY_FILE and _CA_FILE together"
            )
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("HTTPS needs ENGLOG_TLS_CERT_FILE and ENGLOG_TLS_KEY_FILE together")
        if not self.grpc_tls and not is_loopback(self.grpc_host):
            raise ValueError("plaintext gRPC is allowed on loopback only: configure mTLS")
        if not self.production:
            return self
        problems = []
        if not self.grpc_tls:
            problems.append("gRPC must use mTLS in production (ENGLOG_GRPC_TLS_*_FILE)")
        weakness = weak_secret(self.jwt_secret)
        if weakness:
            problems.append(f"ENGLOG_JWT_SECRET {weakness}: {HOW_TO_MAKE_ONE}")
        if self.introspection_enabled:
            problems.append("introspection must be off in production")
        if self.graphiql_enabled:
            problems.append("GraphiQL must be off in production")
        if not self.rate_limits:
            problems.append("rate limits must be on in production (ENGLOG_RATE_LIMITS)")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self
