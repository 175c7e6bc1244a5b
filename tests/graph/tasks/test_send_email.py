"""send_email tasks from the queue, over the real gRPC server, to a real SMTP server (aiosmtpd)
through the real worker (run_worker); and the task kinds a stream asks for."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from db import queue
from englog.certs import write_certificates
from graph.context import AppState
from graph.notifications.email import WHY, render_markdown
from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import SEND_EMAIL
from tests.factories import Api
from tests.fakes.smtp import SmtpServer
from tests.graph.tasks.support import (
    fetchrow,
    insight_reaching,
    next_task,
    request_insight,
)
from worker.client import run_worker
from worker.settings import WorkerSettings

USER, PASSWORD = "englog", "correct horse battery staple"
OPT_IN = "mutation($input: UpdatePreferencesInput!) { updatePreferences(input: $input) { id } }"
SUBJECT = "Your weekly report is ready — Zoë"
TEXT = "Hello Zoë,\n\nyour weekly report is ready.\n"
HTML = "<p>Hello Zoë,</p>\n<p>your weekly report is <b>ready</b>.</p>\n"
# What the API may keep in a payload for itself; none of it may reach a worker.
PRIVATE = "private-marker-7f3a"
EXTRA = {
    queue.TRACE_CONTEXT: {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
    "schedule_id": PRIVATE,
    "user_email_verified": PRIVATE,
}


def payload(to: str = "zoe@example.org", html: str = HTML) -> dict[str, Any]:
    return {"to": to, "subject": SUBJECT, "text": TEXT, "html": html, **EXTRA}


async def enqueue_email(state: AppState, **fields: Any) -> uuid.UUID:
    async with state.db() as session, session.begin():
        return await queue.enqueue(
            session,
            kind=SEND_EMAIL,
            payload=payload(**fields),
            idempotency_key=f"test-email-{uuid.uuid4()}",
        )


async def task_row(database_url: str, task_id: uuid.UUID) -> asyncpg.Record:
    return await fetchrow(
        database_url, "SELECT status, attempts, last_error FROM task WHERE id = $1", task_id
    )


async def task_reaching(
    database_url: str, task_id: uuid.UUID, status: str, within: float = 20.0
) -> tuple[str, int, str | None]:
    async with asyncio.timeout(within):
        while True:
            row = await task_row(database_url, task_id)
            if row["status"] == status:
                return row["status"], row["attempts"], row["last_error"]
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_certificates(tmp_path_factory.mktemp("smtp-certs"), server_hosts=["127.0.0.1"])


@pytest.fixture
def smtp(certs: dict[str, Path]) -> Iterator[SmtpServer]:
    with SmtpServer(tls=certs, username=USER, password=PASSWORD) as server:
        yield server


def settings_for(state: AppState, smtp: SmtpServer | None) -> WorkerSettings:
    values: dict[str, Any] = {
        "api_grpc_address": f"127.0.0.1:{state.grpc_port}",
        "max_concurrent_tasks": 1,
        "ollama_host": None,
    }
    if smtp is not None:
        values.update(
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_username=USER,
            smtp_password=PASSWORD,
            smtp_from="EngLog <noreply@englog.test>",
            smtp_starttls="always",
            smtp_ca_file=str(smtp.ca_file),
            smtp_timeout_seconds=5.0,
        )
    return WorkerSettings.model_validate(values)


@asynccontextmanager
async def running_worker(settings: WorkerSettings) -> AsyncIterator[asyncio.Event]:
    """The real worker process's loop; set the event it yields to stop it early."""
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(settings, stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)


async def test_a_worker_with_smtp_sends_the_email_and_the_task_succeeds(
    app_state: AppState, database_url: str, smtp: SmtpServer
) -> None:
    task_id = await enqueue_email(app_state)
    async with running_worker(settings_for(app_state, smtp)):
        [received] = await smtp.wait_for(1)
        assert await task_reaching(database_url, task_id, "succeeded") == ("succeeded", 1, None)

    assert (received.mail_from, received.rcpt_tos, received.tls, received.login) == (
        "noreply@englog.test",
        ("zoe@example.org",),
        True,
        USER,
    )
    message = received.message
    # The same on every attempt of the task: a message sent twice is recognisably one.
    assert message["Message-ID"] == f"<englog.{task_id}@englog.test>"
    assert (message["From"], message["To"], message["Subject"]) == (
        "EngLog <noreply@englog.test>",
        "zoe@example.org",
        SUBJECT,
    )
    assert [part.get_content() for part in message.iter_parts()] == [TEXT, HTML]
    assert PRIVATE.encode() not in received.raw


async def test_a_rejected_address_fails_the_task_at_once(
    app_state: AppState, database_url: str, smtp: SmtpServer
) -> None:
    smtp.rcpt_answers["nobody@example.org"] = "550 5.1.1 <nobody@example.org>: no such user"
    task_id = await enqueue_email(app_state, to="nobody@example.org")
    async with running_worker(settings_for(app_state, smtp)):
        status = await task_reaching(database_url, task_id, "failed")

    assert status == ("failed", 1, "the SMTP server refused the recipient (550)")
    assert (smtp.rcpt_attempts, smtp.received) == (["nobody@example.org"], [])


async def test_a_temporary_refusal_puts_the_task_back_in_the_queue(
    app_state: AppState, database_url: str, smtp: SmtpServer
) -> None:
    smtp.rcpt_answers["zoe@example.org"] = "451 4.3.0 Mailbox busy, try again later"
    task_id = await enqueue_email(app_state)
    async with running_worker(settings_for(app_state, smtp)) as stop:
        await smtp.wait_for_rcpt(1)
        # Before the 451 reaches the worker: it reports this attempt, then takes no other.
        stop.set()

    assert await task_row(database_url, task_id) == (
        "queued",
        1,
        "the SMTP server refused the recipient (451)",
    )
    assert smtp.received == []


async def test_a_worker_without_mail_settings_leaves_emails_in_the_queue(
    api: Api, app_state: AppState, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="englog.worker")
    account = await api.sign_up()
    task_id = await enqueue_email(app_state)  # the older task: first in line for any stream
    insight_id = await request_insight(api, account)
    async with running_worker(settings_for(app_state, None)):
        await insight_reaching(api, account, insight_id)
        assert await task_row(database_url, task_id) == ("queued", 0, None)

    assert (
        "this worker sends no e-mail (neither ENGLOG_SMTP_HOST nor ENGLOG_MAILBOX_FILE is set): "
        "send_email tasks wait for a worker that does"
    ) in [record.getMessage() for record in caplog.records]


async def test_a_stream_gets_only_the_kinds_it_asks_for(
    api: Api, app_state: AppState, worker: WorkerClient
) -> None:
    account = await api.sign_up()
    email_id = await enqueue_email(app_state)
    insight_id = await request_insight(api, account)

    no_mail = worker.stream_tasks(
        pb.StreamTasksRequest(free_slots=2, kinds=["generate_insight", "enrich_entry"])
    )
    try:
        task = await next_task(no_mail)
    finally:
        no_mail.cancel()
    assert (task.kind, task.email) == ("generate_insight", None)
    assert task.insight is not None
    assert task.insight.insight_id == insight_id

    mail = worker.stream_tasks(pb.StreamTasksRequest(free_slots=2, kinds=[SEND_EMAIL]))
    try:
        task = await next_task(mail)
    finally:
        mail.cancel()
    assert (task.task_id, task.kind, task.attempt) == (str(email_id), SEND_EMAIL, 1)
    # The e-mail's four fields and nothing else of the payload.
    assert task.email == pb.EmailJob(
        to="zoe@example.org", subject=SUBJECT, text_body=TEXT, html_body=HTML
    )
    assert (task.insight, task.enrich_entry) == (None, None)
    assert PRIVATE.encode() not in bytes(task)


async def test_a_stream_that_names_no_kinds_gets_every_kind_but_email(
    api: Api, app_state: AppState, worker: WorkerClient, database_url: str
) -> None:
    # An older worker, which names no kinds, could not send the e-mail: it is left queued.
    email_id = await enqueue_email(app_state, html="")
    insight_id = await request_insight(api, await api.sign_up())
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=2))
    try:
        task = await next_task(stream)
    finally:
        stream.cancel()
    assert task.insight is not None
    assert (task.kind, task.insight.insight_id) == ("generate_insight", insight_id)
    assert (await task_row(database_url, email_id))["status"] == "queued"


# A finished insight's e-mail, from the API's transaction to the SMTP server


async def test_a_finished_insight_is_emailed_to_a_user_who_opted_in(
    api: Api, app_state: AppState, database_url: str, smtp: SmtpServer
) -> None:
    account = await api.sign_up()
    await api.data(OPT_IN, {"input": {"email": True}}, account.access_token)
    insight_id = await request_insight(api, account)

    async with running_worker(settings_for(app_state, smtp)):
        insight = await insight_reaching(api, account, insight_id)
        [received] = await smtp.wait_for(1)

    message = received.message
    assert (received.rcpt_tos, message["To"], message["Subject"]) == (
        (account.email,),
        account.email,
        "Your weekly report for 2–8 November 2026",
    )
    text, html = (part.get_content() for part in message.iter_parts())
    content = await insight_content(database_url, insight_id)
    assert insight["status"] == "COMPLETED"
    assert text == (
        "Hi Ada,\n\nYour weekly report for 2–8 November 2026 is ready.\n\n"
        f"{content.strip()}\n\n-- \n"
        "Written by EngLog's built-in summariser from your metrics (no language model).\n"
        f"{WHY}\n"
    )
    assert "<p>Hi Ada,</p>" in html
    assert render_markdown(content.strip()) in html
    row = await fetchrow(
        database_url,
        "SELECT status, max_attempts FROM task WHERE kind = 'send_email' AND user_id = $1",
        uuid.UUID(account.user_id),
    )
    assert tuple(row) == ("succeeded", 8)


async def test_a_user_who_did_not_opt_in_gets_no_email(
    api: Api, app_state: AppState, database_url: str, smtp: SmtpServer
) -> None:
    account = await api.sign_up()
    insight_id = await request_insight(api, account)

    async with running_worker(settings_for(app_state, smtp)):
        await insight_reaching(api, account, insight_id)

    # The worker has finished every task it took: had an e-mail been queued, it was sent.
    assert smtp.received == []
    count = await fetchrow(database_url, "SELECT count(*) FROM task WHERE kind = 'send_email'")
    assert count[0] == 0


async def insight_content(database_url: str, insight_id: str) -> str:
    row = await fetchrow(
        database_url, "SELECT content FROM insight WHERE id = $1", uuid.UUID(insight_id)
    )
    content: str = row["content"]
    return content
