"""The send_email task: one message to one recipient, through this worker's mailer."""

from __future__ import annotations

from worker.jobs import EmailJob, TaskFailed
from worker.mail import Mailer, compose_message, has_control_characters, parse_mailbox


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
