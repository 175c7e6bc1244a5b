"""The send_email task: the message alone goes to a worker that can send mail
(graph/notifications/email.py writes it and queues the task)."""

from __future__ import annotations

from typing import Any

from graph.tasks.kinds import Payload, RetryPolicy, TaskKind
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import SEND_EMAIL

# A mail server's 4xx (greylisting, a rate limit, a full mailbox) lasts minutes, not
# seconds: an e-mail's retries are spread over about an hour.
EMAIL_RETRY = RetryPolicy(base_delay=30.0, max_delay=1800.0)


class SendEmailTask(TaskKind):
    name = SEND_EMAIL
    retry = EMAIL_RETRY

    def job_message(self, payload: Payload) -> dict[str, Any]:
        # Field by field: whatever else the payload holds (its trace context, ids the API
        # keeps for itself) stays on this side.
        return {
            "email": pb.EmailJob(
                to=str(payload["to"]),
                subject=str(payload["subject"]),
                text_body=str(payload["text"]),
                html_body=str(payload.get("html") or ""),
            )
        }


SEND_EMAIL_TASK = SendEmailTask()
