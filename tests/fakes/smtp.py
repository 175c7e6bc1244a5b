"""A real SMTP server (aiosmtpd) on loopback, in a thread, that keeps what it receives.

    with SmtpServer(tls=write_certificates(...), username="englog", password="secret") as smtp:
        ...  # send to 127.0.0.1:smtp.port, trusting smtp's CA
        assert smtp.received[0].message["Subject"] == "Hello"

With certificates it offers STARTTLS (or speaks TLS from the first byte, `implicit_tls`) and
AUTH only once TLS is on; `rcpt_answers` scripts the answer to RCPT TO for given addresses
(e.g. "550 5.1.1 No such user"), everything else is accepted.
"""

from __future__ import annotations

import asyncio
import email.policy
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

ACCEPTED = "250 2.0.0 Message accepted for delivery"


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage  # parsed with email.policy.default
    raw: bytes
    tls: bool  # the session was encrypted (STARTTLS or implicit TLS) when DATA came
    login: str | None  # the user it authenticated as, if it did


def server_tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        # Seen before it is answered: a test that waits for it runs before the client reacts.
        with self.server.condition:
            self.server.rcpt_attempts.append(address)
            self.server.condition.notify_all()
        answer = self.server.rcpt_answers.get(address)
        if answer is not None:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, smtp: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        # CRLF on the wire, LF in a mailbox: what a delivering MTA hands a reader.
        message = BytesParser(policy=email.policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        received = Received(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=message,
            raw=raw,
            # session.ssl is set by STARTTLS only; implicit TLS shows on the transport.
            tls=session.ssl is not None
            or (
                smtp.transport is not None
                and smtp.transport.get_extra_info("sslcontext") is not None
            ),
            login=login,
        )
        with self.server.condition:
            self.server.received.append(received)
            self.server.condition.notify_all()
        return ACCEPTED


class _Controller(Controller):
    """aiosmtpd's Controller on a socket bound beforehand, so port 0 (any free one) works."""

    def __init__(self, handler: _Handler, sock: socket.socket, **kwargs: Any) -> None:
        self._socket = sock
        host, port = sock.getsockname()
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(
            self._factory_invoker, sock=self._socket, ssl=self.ssl_context
        )


class SmtpServer:
    def __init__(
        self,
        *,
        tls: Mapping[str, Path] | None = None,
        implicit_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        auth_require_tls: bool = True,
        rcpt_answers: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        """`tls`: the paths of englog.certs.write_certificates (server_cert, server_key, ca);
        without it the server offers no STARTTLS. `username`: AUTH PLAIN/LOGIN is offered
        (once TLS is on, unless `auth_require_tls` is false) and that user is accepted."""
        self.received: list[Received] = []
        self.rcpt_attempts: list[str] = []  # every RCPT TO address, answered or refused
        self.auth_attempts = 0
        self.condition = threading.Condition()
        self.rcpt_answers: dict[str, str] = dict(rcpt_answers or {})
        self.username, self.password = username, password
        self.ca_file: Path | None = tls["ca"] if tls else None
        context = server_tls_context(tls["server_cert"], tls["server_key"]) if tls else None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((host, 0))
        self.host = host
        self.port: int = sock.getsockname()[1]
        options: dict[str, Any] = {"ready_timeout": 10.0}
        if implicit_tls:
            options["ssl_context"] = context
        elif context is not None:
            options.update(tls_context=context, require_starttls=True)
        if username is not None:
            # aiosmtpd counts only STARTTLS as TLS: with implicit TLS, AUTH is on TLS anyway.
            require_tls = auth_require_tls and not implicit_tls
            options.update(authenticator=self._authenticate, auth_require_tls=require_tls)
        self._controller = _Controller(_Handler(self), sock, **options)

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.auth_attempts += 1
        expected = LoginPassword((self.username or "").encode(), (self.password or "").encode())
        if data == expected:
            return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 5.7.8

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages received, once there are `count` of them."""
        await self._wait(lambda: len(self.received) >= count, timeout)
        return list(self.received)

    async def wait_for_rcpt(self, count: int, timeout: float = 10.0) -> list[str]:
        """The RCPT TO addresses, once `count` have come (before the last is answered)."""
        await self._wait(lambda: len(self.rcpt_attempts) >= count, timeout)
        return list(self.rcpt_attempts)

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        # In a thread: the client may be a task on the caller's event loop.
        def wait() -> None:
            with self.condition:
                if not self.condition.wait_for(predicate, timeout):
                    raise TimeoutError("the SMTP server did not see it in time")

        await asyncio.to_thread(wait)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
