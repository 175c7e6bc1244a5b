"""The worker's e-mail against a real SMTP server (aiosmtpd) on loopback, and its mailbox file."""

from __future__ import annotations

import logging
import mailbox
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from englog.certs import write_certificates
from tests.fakes.smtp import SmtpServer, closed_port
from worker.jobs import TaskFailed
from worker.mail import (
    DEV_SENDER,
    MailboxMailer,
    SmtpMailer,
    compose_message,
    mailer_for,
    parse_mailbox,
)
from worker.settings import WorkerSettings
from worker.tasks.send_email import EmailJob, run_send_email

USER, PASSWORD = "englog", "correct horse battery staple"
SENDER = "EngLog <noreply@englog.test>"
SUBJECT = "Your weekly report is ready — Zoë ✓"
TEXT = "Hello Zoë,\n\nyour weekly report is ready: 7 h 30 of deep work.\n"
HTML = "<p>Hello Zoë,</p>\n<p>your weekly report is <b>ready</b>: 7 h 30 of deep work.</p>\n"
JOB = EmailJob(to="Zoë Example <zoe@example.org>", subject=SUBJECT, text=TEXT, html=HTML)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A private CA and a server certificate for 127.0.0.1 (englog certs' own)."""
    return write_certificates(
        tmp_path_factory.mktemp("smtp-certs"), server_hosts=["127.0.0.1", "localhost"]
    )


@pytest.fixture
def smtp(certs: dict[str, Path]) -> Iterator[SmtpServer]:
    """STARTTLS required before anything else; AUTH (after TLS) as USER/PASSWORD."""
    with SmtpServer(tls=certs, username=USER, password=PASSWORD) as server:
        yield server


def smtp_settings(server: SmtpServer | None, **changes: Any) -> WorkerSettings:
    values: dict[str, Any] = {
        "smtp_host": server.host if server else "127.0.0.1",
        "smtp_port": server.port if server else closed_port(),
        "smtp_username": USER,
        "smtp_password": PASSWORD,
        "smtp_from": SENDER,
        "smtp_starttls": "always",
        "smtp_ca_file": str(server.ca_file) if server and server.ca_file else None,
        "smtp_timeout_seconds": 5.0,
    }
    return WorkerSettings.model_validate({**values, **changes})


async def send(settings: WorkerSettings, job: EmailJob = JOB) -> str:
    return await run_send_email(job, mailer=SmtpMailer(settings))


async def failure(settings: WorkerSettings, job: EmailJob = JOB) -> tuple[str, bool]:
    with pytest.raises(TaskFailed) as raised:
        await send(settings, job)
    return raised.value.reason, raised.value.retryable


def parts(message: EmailMessage) -> list[tuple[str, str | None, str]]:
    return [
        (part.get_content_type(), part.get_content_charset(), part.get_content())
        for part in message.iter_parts()
    ]


async def test_an_email_arrives_over_starttls_with_login_exact_headers_and_both_bodies(
    smtp: SmtpServer,
) -> None:
    message_id = await send(smtp_settings(smtp))

    [received] = smtp.received
    assert (received.mail_from, received.rcpt_tos, received.tls, received.login) == (
        "noreply@englog.test",
        ("zoe@example.org",),
        True,
        USER,
    )
    message = received.message
    assert list(message.keys()) == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
    ]
    assert (message["From"], message["To"], message["Subject"]) == (
        SENDER,
        "Zoë Example <zoe@example.org>",
        SUBJECT,
    )
    # Non-ASCII header text travels as RFC 2047 encoded words: the header block is ASCII.
    assert received.raw.split(b"\r\n\r\n", 1)[0].isascii()
    assert parsedate_to_datetime(message["Date"]).utcoffset() is not None
    assert message["Message-ID"] == message_id
    assert re.fullmatch(r"<[^<>@\s]+@englog\.test>", message_id)
    assert message.get_content_type() == "multipart/alternative"
    assert parts(message) == [("text/plain", "utf-8", TEXT), ("text/html", "utf-8", HTML)]


async def test_an_email_without_html_is_text_only(smtp: SmtpServer) -> None:
    await send(smtp_settings(smtp), EmailJob(to="zoe@example.org", subject="Hi", text=TEXT))

    [received] = smtp.received
    assert received.message["To"] == "zoe@example.org"
    assert received.message.get_content_type() == "text/plain"
    assert received.message.get_content_charset() == "utf-8"
    assert received.message.get_content() == TEXT
    assert received.message.is_multipart() is False


async def test_implicit_tls_sends_over_tls_from_the_first_byte(certs: dict[str, Path]) -> None:
    with SmtpServer(tls=certs, implicit_tls=True, username=USER, password=PASSWORD) as server:
        await send(smtp_settings(server, smtp_tls=True, smtp_starttls="auto"))
        [received] = server.received
    assert (received.tls, received.login, received.rcpt_tos) == (True, USER, ("zoe@example.org",))


async def test_a_wrong_password_fails_for_good(smtp: SmtpServer) -> None:
    settings = smtp_settings(smtp, smtp_password="wrong")

    assert await failure(settings) == (
        "the SMTP server refused the credentials (535): check ENGLOG_SMTP_*",
        False,
    )
    assert smtp.received == []


async def test_a_recipient_refused_with_550_fails_for_good_without_naming_it(
    smtp: SmtpServer,
) -> None:
    smtp.rcpt_answers["zoe@example.org"] = "550 5.1.1 <zoe@example.org>: no such user"

    assert await failure(smtp_settings(smtp)) == (
        "the SMTP server refused the recipient (550)",
        False,
    )
    assert smtp.received == []


async def test_a_recipient_answered_451_is_retried(smtp: SmtpServer) -> None:
    smtp.rcpt_answers["zoe@example.org"] = "451 4.3.0 Try again later"

    assert await failure(smtp_settings(smtp)) == (
        "the SMTP server refused the recipient (451)",
        True,
    )
    assert smtp.received == []


async def test_a_server_that_is_down_is_retried() -> None:
    assert await failure(smtp_settings(None)) == (
        "the SMTP server is unreachable (SMTPConnectError)",
        True,
    )


async def test_starttls_always_refuses_a_server_without_it() -> None:
    with SmtpServer(username=USER, password=PASSWORD, auth_require_tls=False) as server:
        assert await failure(smtp_settings(server)) == (
            "the e-mail cannot be sent: SMTP STARTTLS extension not supported by server.",
            False,
        )
        assert (server.received, server.auth_attempts) == ([], 0)


async def test_a_certificate_from_an_unknown_ca_fails_for_good(smtp: SmtpServer) -> None:
    reason, retryable = await failure(smtp_settings(smtp, smtp_ca_file=None))

    assert (reason, retryable) == (
        "the SMTP server's certificate is not trusted (unable to get local issuer certificate)",
        False,
    )
    assert smtp.received == []


def non_loopback_address() -> str:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: connecting a UDP socket sends nothing
        except OSError:
            pytest.skip("this machine has no network interface but loopback")
        address: str = probe.getsockname()[0]
    return address


async def test_auto_starttls_never_sends_credentials_in_clear_off_loopback() -> None:
    address = non_loopback_address()
    # Offers AUTH without TLS: what a server without STARTTLS, or someone stripping it, does.
    with SmtpServer(
        username=USER, password=PASSWORD, auth_require_tls=False, host=address
    ) as server:
        settings = smtp_settings(server, smtp_starttls="auto")
        assert await failure(settings) == (
            "the SMTP server offered no STARTTLS; the credentials are not sent in clear",
            False,
        )
        assert (server.received, server.auth_attempts) == ([], 0)


@pytest.mark.parametrize(
    ("job", "reason"),
    [
        (
            EmailJob(to="zoe@example.org\r\nBcc: everyone@example.org", subject="Hi", text="x"),
            "the recipient is not an e-mail address: "
            "it contains a line break or another control character",
        ),
        (
            EmailJob(to="zoe@example.org", subject="Hi\r\nBcc: everyone@example.org", text="x"),
            "the subject contains a line break or another control character",
        ),
        (
            EmailJob(to="zoe@example.org", subject="Hi\nX-Spam: no", text="x"),
            "the subject contains a line break or another control character",
        ),
        (
            EmailJob(to="zoe@example.org, eve@example.org", subject="Hi", text="x"),
            "the recipient is not an e-mail address: it holds 2 addresses, not one",
        ),
        (
            EmailJob(to="not an address", subject="Hi", text="x"),
            "the recipient is not an e-mail address: it is not of the form name@domain",
        ),
    ],
)
async def test_header_injection_and_bad_recipients_fail_for_good_and_send_nothing(
    smtp: SmtpServer, job: EmailJob, reason: str
) -> None:
    assert await failure(smtp_settings(smtp), job) == (reason, False)
    assert (smtp.received, smtp.auth_attempts) == ([], 0)


async def test_the_mailbox_file_gets_each_email_as_mbox_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "dev" / "mailbox"
    mailer = mailer_for(WorkerSettings(mailbox_file=str(path)))
    assert isinstance(mailer, MailboxMailer)
    caplog.set_level(logging.INFO, logger="englog.worker.mail")

    first = await run_send_email(JOB, mailer=mailer)
    await run_send_email(
        EmailJob(to="ada@example.org", subject="Second", text="Two\n"), mailer=mailer
    )

    assert [record.getMessage() for record in caplog.records] == [
        f"e-mail to zoe@example.org: {SUBJECT} (appended to {path})",
        f"e-mail to ada@example.org: Second (appended to {path})",
    ]
    box = mailbox.mbox(path, create=False)
    try:
        messages = [
            BytesParser(policy=default_policy).parsebytes(box.get_bytes(key))
            for key in box.iterkeys()
        ]
    finally:
        box.close()
    assert [(m["From"], m["To"], m["Subject"]) for m in messages] == [
        (DEV_SENDER, "Zoë Example <zoe@example.org>", SUBJECT),
        (DEV_SENDER, "ada@example.org", "Second"),
    ]
    assert messages[0]["Message-ID"] == first
    assert isinstance(messages[0], EmailMessage)
    assert parts(messages[0]) == [("text/plain", "utf-8", TEXT), ("text/html", "utf-8", HTML)]
    assert messages[1].get_content() == "Two\n"


def test_a_worker_without_smtp_host_or_mailbox_has_no_mailer() -> None:
    assert mailer_for(WorkerSettings()) is None
    assert isinstance(mailer_for(smtp_settings(None)), SmtpMailer)


def test_a_keyed_message_has_the_same_message_id_on_every_attempt() -> None:
    sender, recipient = parse_mailbox(SENDER), parse_mailbox("zoe@example.org")

    def compose(key: str | None) -> str:
        message = compose_message(
            sender=sender, recipient=recipient, subject="s", text="t", html="", key=key
        )
        return str(message["Message-ID"])

    key = "0b6f1c9e-5d7a-4f3e-9b1a-2c8d4e6f7a90"
    assert compose(key) == compose(key) == f"<englog.{key}@englog.test>"
    # Without a key, or with one a header could misread, a fresh id each time.
    assert compose(None) != compose(None)
    assert "evil" not in compose("x>\r\nBcc: evil@example.org")
