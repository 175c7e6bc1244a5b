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


SMTP = {"smtp_host": "smtp.example.com", "smtp_from": "EngLog <noreply@example.com>"}
CREDENTIALS = {"smtp_username": "englog", "smtp_password": "secret"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {**SMTP, **CREDENTIALS, "smtp_starttls": "never"},
            "SMTP credentials would cross the network in clear",
        ),
        ({"smtp_host": "smtp.example.com"}, "ENGLOG_SMTP_FROM is required with ENGLOG_SMTP_HOST"),
        (
            {**SMTP, "smtp_from": "not an address"},
            "ENGLOG_SMTP_FROM is not an e-mail address: it is not of the form name@domain",
        ),
        (
            {**SMTP, "smtp_from": "a@example.com, b@example.com"},
            "ENGLOG_SMTP_FROM is not an e-mail address: it holds 2 addresses, not one",
        ),
        (
            {**SMTP, "smtp_username": "englog"},
            "set both ENGLOG_SMTP_USERNAME and ENGLOG_SMTP_PASSWORD, or neither",
        ),
        ({**SMTP, "mailbox_file": "mailbox"}, "set ENGLOG_SMTP_HOST or ENGLOG_MAILBOX_FILE"),
        ({**SMTP, "smtp_starttls": "sometimes"}, "Input should be 'auto', 'always' or 'never'"),
    ],
)
def test_mail_settings_that_are_unsafe_or_incomplete_are_refused(
    values: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        WorkerSettings.model_validate(values)


@pytest.mark.parametrize(
    "values",
    [
        {**SMTP, **CREDENTIALS, "smtp_starttls": "never", "smtp_tls": "true", "smtp_port": "465"},
        {**SMTP, **CREDENTIALS, "smtp_starttls": "never", "smtp_host": "127.0.0.1"},
        {**SMTP, **CREDENTIALS, "smtp_starttls": "auto"},
    ],
)
def test_credentials_go_over_tls_or_stay_on_loopback(values: dict[str, str]) -> None:
    settings = WorkerSettings.model_validate(values)
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "secret"
    assert "secret" not in repr(settings)


def test_mail_defaults_and_empty_variables_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # What compose passes for a variable the host does not set (`${ENGLOG_SMTP_HOST:-}`).
    for name in ("SMTP_HOST", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM", "MAILBOX_FILE"):
        monkeypatch.setenv(f"ENGLOG_{name}", "")
    settings = WorkerSettings()
    assert (
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_username,
        settings.smtp_password,
        settings.smtp_from,
        settings.smtp_starttls,
        settings.smtp_tls,
        settings.smtp_timeout_seconds,
        settings.smtp_ca_file,
        settings.mailbox_file,
    ) == (None, 587, None, None, None, "auto", False, 30.0, None, None)
