"""Sending e-mail: over SMTP (aiosmtplib), or appended to a local mbox file in development.

A failure is a TaskFailed that says whether trying again may help: 4xx answers, lost
connections and timeouts are transient and go back to the queue; 5xx answers are final.
Reasons name the SMTP code, never the recipient: reasons are logged and stored with the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import logging
import mailbox
import re
import ssl
import unicodedata
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import aiosmtplib

from core.net import is_loopback
from worker.jobs import TaskFailed

if TYPE_CHECKING:
    from worker.settings import WorkerSettings

logger = logging.getLogger("englog.worker.mail")

# The sender of a development mailbox when ENGLOG_SMTP_FROM is not set.
DEV_SENDER = "EngLog <englog@localhost>"


def has_control_characters(value: str) -> bool:
    """CR, LF and the other control characters: in a header, they would start a new one."""
    return any(unicodedata.category(char) == "Cc" for char in value)


def parse_mailbox(value: str) -> Address:
    """One address, bare or with a display name; ValueError for anything else."""
    if has_control_characters(value):
        raise ValueError("it contains a line break or another control character")
    try:
        header = email.policy.default.header_factory("To", value)
        addresses = header.addresses
    except (IndexError, ValueError, TypeError):  # the parser's reaction to some garbage
        raise ValueError("it cannot be parsed as an address") from None
    if len(addresses) != 1:
        raise ValueError(f"it holds {len(addresses)} addresses, not one")
    address: Address = addresses[0]
    if header.defects or not address.username or not address.domain:
        raise ValueError("it is not of the form name@domain")
    return address


_MESSAGE_KEY = re.compile(r"[A-Za-z0-9-]{1,64}")  # a task id: nothing a header could misread


def compose_message(
    *,
    sender: Address,
    recipient: Address,
    subject: str,
    text: str,
    html: str,
    key: str | None = None,
) -> EmailMessage:
    """The message as sent: text/plain alone, or multipart/alternative with text/plain then
    text/html (clients show the last part they can render). UTF-8 throughout.

    With a `key` (the task's id), the Message-ID is the same on every attempt: a message
    sent twice (the server took it, but its answer was lost) is recognisably one message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    stable = key is not None and _MESSAGE_KEY.fullmatch(key) is not None
    message["Message-ID"] = (
        f"<englog.{key}@{sender.domain}>" if stable else make_msgid(domain=sender.domain)
    )
    message.set_content(text, charset="utf-8")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


class Mailer(Protocol):
    """Where e-mails go; `send` raises TaskFailed when one cannot be delivered."""

    @property
    def sender(self) -> Address: ...

    @property
    def description(self) -> str: ...

    async def send(self, message: EmailMessage, *, recipient: str) -> None: ...


def _transient(code: int) -> bool:
    return 400 <= code < 500


def smtp_failure(exc: Exception) -> TaskFailed:
    """What an aiosmtplib (or socket) error means for the task.

    Authentication refused with 535 is final, like every 5xx: retrying cannot fix a wrong
    password (the queue's retries all happen within a minute, long before anyone edits the
    configuration and restarts the worker), and repeated failed logins are what gets a
    sending account or address locked out. The task is `failed` at once, retryable by hand
    once the configuration is fixed. A 454 (temporary authentication failure) is retried.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]  # one recipient a message
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        reason = f"the SMTP server refused the recipient ({exc.code})"
    elif isinstance(exc, aiosmtplib.SMTPSenderRefused):
        reason = f"the SMTP server refused the sender address ({exc.code}): check ENGLOG_SMTP_FROM"
    elif isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        reason = f"the SMTP server refused the credentials ({exc.code}): check ENGLOG_SMTP_*"
    elif isinstance(exc, aiosmtplib.SMTPDataError):
        reason = f"the SMTP server refused the message ({exc.code})"
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        reason = f"the SMTP server answered {exc.code}"
    else:
        return _unanswered(exc)
    return TaskFailed(reason, retryable=_transient(exc.code))


def _unanswered(exc: Exception) -> TaskFailed:
    """A failure without an SMTP reply code."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        # A configuration problem (ENGLOG_SMTP_CA_FILE, the host name) or someone in the
        # middle: either way, retrying at once changes nothing.
        return TaskFailed(
            f"the SMTP server's certificate is not trusted ({exc.verify_message})", retryable=False
        )
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return TaskFailed("the SMTP server did not answer in time", retryable=True)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | OSError):
        return TaskFailed(f"the SMTP server is unreachable ({type(exc).__name__})", retryable=True)
    # SMTPNotSupported (e.g. an address that needs SMTPUTF8), STARTTLS required but not
    # offered, an address aiosmtplib refuses to send (ValueError): the same next time.
    message = exc.message if isinstance(exc, aiosmtplib.SMTPException) else type(exc).__name__
    return TaskFailed(f"the e-mail cannot be sent: {message}", retryable=False)


class SmtpMailer:
    """One SMTP connection an e-mail: mail is rare, and a fresh connection has no stale state."""

    def __init__(self, settings: WorkerSettings) -> None:
        if settings.smtp_host is None or settings.smtp_from is None:
            raise ValueError("an SMTP mailer needs ENGLOG_SMTP_HOST and ENGLOG_SMTP_FROM")
        self.settings = settings
        self.host = settings.smtp_host
        self._sender = parse_mailbox(settings.smtp_from)
        # Built once: loading a CA bundle reads files, which the event loop should not wait on.
        self.tls_context = ssl.create_default_context(cafile=settings.smtp_ca_file)

    @property
    def sender(self) -> Address:
        return self._sender

    @property
    def description(self) -> str:
        if self.settings.smtp_tls:
            security = "TLS"
        else:
            security = {"auto": "STARTTLS when offered", "always": "STARTTLS", "never": "plain"}[
                self.settings.smtp_starttls
            ]
        login = "with login" if self.settings.smtp_username else "no login"
        return f"sent over SMTP to {self.host}:{self.settings.smtp_port} ({security}, {login})"

    async def send(self, message: EmailMessage, *, recipient: str) -> None:
        settings = self.settings
        start_tls = {"auto": None, "always": True, "never": False}[settings.smtp_starttls]
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=settings.smtp_port,
            use_tls=settings.smtp_tls,
            start_tls=False if settings.smtp_tls else start_tls,
            timeout=settings.smtp_timeout_seconds,
            tls_context=self.tls_context,
        )
        try:
            try:
                await client.connect()
                await self._log_in(client)
                await client.send_message(
                    message, sender=self._sender.addr_spec, recipients=[recipient]
                )
            except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
                raise smtp_failure(exc) from exc
            # Accepted: a failing QUIT must not fail the task, which would send it twice.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        finally:
            client.close()
        logger.info("e-mail %s accepted by %s", message["Message-ID"], self.host)

    async def _log_in(self, client: aiosmtplib.SMTP) -> None:
        settings = self.settings
        if settings.smtp_username is None or settings.smtp_password is None:
            return
        encrypted = client.get_transport_info("sslcontext") is not None
        if not encrypted and not is_loopback(self.host):
            # "auto" and a server (or someone in between) that offered no STARTTLS: the
            # password must not cross the network in clear.
            raise TaskFailed(
                "the SMTP server offered no STARTTLS; the credentials are not sent in clear",
                retryable=False,
            )
        await client.login(settings.smtp_username, settings.smtp_password.get_secret_value())


class MailboxMailer:
    """Development: e-mails appended to an mbox file (any mail client opens it), and a log
    line for each, so `englog dev` shows the whole loop with no mail server."""

    def __init__(self, path: Path, sender: Address) -> None:
        self.path = path
        self._sender = sender
        # The mbox lock keeps other processes out; this keeps this process's tasks in line
        # (the dot-lock fails rather than waits when it is taken).
        self._lock = asyncio.Lock()

    @property
    def sender(self) -> Address:
        return self._sender

    @property
    def description(self) -> str:
        return f"appended to {self.path} (no SMTP server)"

    async def send(self, message: EmailMessage, *, recipient: str) -> None:
        async with self._lock:
            try:
                await asyncio.to_thread(self._append, message)
            except (OSError, mailbox.Error) as exc:
                raise TaskFailed(
                    f"the mailbox file cannot be written ({type(exc).__name__})", retryable=True
                ) from exc
        logger.info("e-mail to %s: %s (appended to %s)", recipient, message["Subject"], self.path)

    def _append(self, message: EmailMessage) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.mbox(self.path, create=True)
        box.lock()
        try:
            box.add(message)
            box.flush()
        finally:
            box.unlock()
            box.close()


def mailer_for(settings: WorkerSettings) -> Mailer | None:
    """How this worker sends e-mail, or None when it cannot (it then takes no e-mail tasks)."""
    if settings.smtp_host is not None:
        return SmtpMailer(settings)
    if settings.mailbox_file is not None:
        sender = parse_mailbox(settings.smtp_from or DEV_SENDER)
        return MailboxMailer(Path(settings.mailbox_file), sender)
    return None
