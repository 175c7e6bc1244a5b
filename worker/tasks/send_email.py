"""The send_email task: one message to one recipient, through this worker's mailer."""

from __future__ import annotations

from dataclasses import dataclass, field

from protos.vocabulary import SEND_EMAIL
from worker.jobs import Result, TaskFailed, wire
from worker.mail import Mailer, compose_message, has_control_characters, parse_mailbox
from worker.tasks.kinds import Context, Tools, WorkerKind


@dataclass(frozen=True)
class EmailJob:
    """An e-mail to send: the message alone (the API keeps who asked for it, and why)."""

    to: str  # one address, bare or "Name <address>"
    subject: str
    text: str = field(metadata=wire("text_body"))
    html: str = field(default="", metadata=wire("html_body"))  # empty: a text-only message


async def run_send_email(job: EmailJob, *, mailer: Mailer, key: str | None = None) -> str:
    """Sends the job's e-mail; its Message-ID (stable across attempts when `key`, the task's
    id, is given: worker/mail.py compose_message). A recipient or subject that would forge
    headers (CR/LF), or a recipient that is not one address, fails for good before anything
    is sent; the mailer's TaskFailed says whether a failed delivery may be retried."""
    try:
        recipient = parse_mailbox(job.to)
    except ValueError as exc:
        # The reason is stored and logged: it says what is wrong, not what the address is.
        raise TaskFailed(
            f"the recipient is not an e-mail address: {exc}", retryable=False
        ) from None
    if has_control_characters(job.subject):
        raise TaskFailed(
            "the subject contains a line break or another control character", retryable=False
        )
    message = compose_message(
        sender=mailer.sender,
        recipient=recipient,
        subject=job.subject,
        text=job.text,
        html=job.html,
        key=key,
    )
    await mailer.send(message, recipient=recipient.addr_spec)
    return str(message["Message-ID"])


def sends_mail(tools: Tools) -> bool:
    """Only a worker with mail settings (ENGLOG_SMTP_HOST or ENGLOG_MAILBOX_FILE) asks for
    e-mails: one without would fail them for good."""
    return tools.mailer is not None


async def run(job: EmailJob, context: Context) -> Result:
    mailer = context.tools.mailer
    if mailer is None:  # `sends_mail` keeps it from being asked; this tells the type checker
        raise TaskFailed(f"this worker cannot run {SEND_EMAIL!r}", retryable=False)
    await run_send_email(job, mailer=mailer, key=context.task_id)
    return Result(model="")  # no model wrote it; the API needs nothing back


KIND = WorkerKind(name=SEND_EMAIL, job_field="email", job=EmailJob, run=run, runs_with=sends_mail)
