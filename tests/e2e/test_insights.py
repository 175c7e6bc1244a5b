"""An insight end to end: GraphQL over HTTP to `englog api`, real gRPC to `englog worker`,
HTTP to a fake Ollama process; outcomes checked in the database the API wrote."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.processes import ApiProcess, Launcher
from tests.e2e.support import FINAL, INSIGHT, Database, eventually, request_insight
from tests.factories import Api
from tests.fakes.insight_answers import WEEKLY_STORED, WEEKLY_TOKENS
from tests.fakes.ollama import expected_stats
from worker.builtin import NOTICE, builtin_report
from worker.jobs import EntryLine, InsightJob

pytestmark = pytest.mark.slow

MODEL = "englog-fake:1b"
REPLY = "".join(WEEKLY_TOKENS)  # a well-formed answer: the sections asked for
# Entry enrichment asks for structured output; answering it keeps those tasks quiet.
SUGGESTION = json.dumps({"tags": ["deploys"], "skills": ["debugging"]})
# The two entries above, as the API computes them (Europe/London is UTC in November).
WEEK_METRICS = {
    "total_minutes": 150,
    "total_entries": 2,
    "by_type": [
        {"key": "REVIEW", "minutes": 90, "percent": 60.0},
        {"key": "DEBUG", "minutes": 60, "percent": 40.0},
    ],
    "by_project": [{"key": "No project", "minutes": 150, "percent": 100.0}],
    "by_value": [{"key": "MEDIUM", "minutes": 150, "percent": 100.0}],
    "by_impact": [{"key": "TEAM", "minutes": 150, "percent": 100.0}],
    "average_daily_hours": 2.5,
    "days_with_entries": 1,
    "peak_hour": 11,
    "high_value_percent": 0.0,
    "product_company_impact_percent": 0.0,
    "value_impact_score": 27.3,
}


def ollama_env(url: str, **extra: str) -> dict[str, str]:
    return {"ENGLOG_OLLAMA_HOST": url, "ENGLOG_OLLAMA_MODEL": MODEL, **extra}


async def test_requested_insight_is_written_by_the_model_through_a_worker_process(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    fake = await launcher.fake_ollama(
        {"models": [MODEL], "reply": REPLY, "structured_reply": SUGGESTION}
    )
    await launcher.worker(shared_api, ollama_env(fake.url))
    account = await http.sign_up()
    await http.create_entry(account, title="Fixed the flaky deploy", type="DEBUG", minutes=60)
    await http.create_entry(
        account, offset_hours=2, title="Reviewed the pipeline", type="REVIEW", minutes=90
    )

    insight_id = await request_insight(http, account)
    row = await db.wait_for_insight(insight_id)

    [chat] = await fake.insight_requests()
    prompt_chars = sum(len(m["content"]) for m in chat["body"]["messages"])
    assert (chat["body"]["model"], chat["body"]["stream"]) == (MODEL, True)
    assert row["status"] == "COMPLETED"
    assert WEEKLY_STORED in row["content"]  # after EngLog's figures
    assert (row["model"], row["error"], row["attempts"]) == (MODEL, None, 1)
    checks = json.loads(
        await db.connection.fetchval("SELECT checks FROM insight WHERE id = $1::uuid", insight_id)
    )
    assert checks == {
        "supported_numbers": 0,
        "unsupported_numbers": 0,
        "retried": False,
        "fallback": False,
        "removed": [],
    }
    assert row["completed_at"] is not None
    assert row["generation"] == expected_stats(
        prompt_chars=prompt_chars, eval_count=len(re.findall(r"\S+\s*", REPLY))
    )
    assert row["metrics"] == WEEK_METRICS
    task = await db.task_of(insight_id)
    assert (task["kind"], task["status"], task["attempts"]) == ("generate_insight", "succeeded", 1)
    assert task["payload"]["metrics"] == WEEK_METRICS  # what the worker was sent
    data = await http.data(INSIGHT, {"id": insight_id}, account.access_token)
    assert data["insight"] == {
        "status": "COMPLETED",
        "content": row["content"],
        "model": MODEL,
        "error": None,
        "attempts": 1,
    }


async def test_without_ollama_the_builtin_summariser_writes_the_insight_and_says_so(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    await launcher.worker(shared_api)  # no ENGLOG_OLLAMA_HOST
    account = await http.sign_up()
    await http.create_entry(account, title="Fixed the flaky deploy", type="DEBUG", minutes=60)
    await http.create_entry(
        account, offset_hours=2, title="Reviewed the pipeline", type="REVIEW", minutes=90
    )

    insight_id = await request_insight(http, account)
    row = await db.wait_for_insight(insight_id)

    task = await db.task_of(insight_id)
    payload = task["payload"]
    job = InsightJob(
        insight_id=insight_id,
        kind="WEEKLY_REPORT",
        period_start="2026-11-02",
        period_end="2026-11-08",
        timezone="Europe/London",
        metrics=WEEK_METRICS,
        entries=tuple(
            EntryLine(**{**line, "tags": tuple(line["tags"])}) for line in payload["entries"]
        ),
        user_first_name="Ada",
    )
    assert row["status"] == "COMPLETED"
    assert (row["model"], row["error"], row["attempts"]) == ("builtin", None, 1)
    assert row["content"] == builtin_report(job)
    assert row["content"].splitlines()[:3] == [
        "# Weekly report: 2026-11-02 to 2026-11-08",
        "",
        NOTICE,
    ]
    assert row["generation"] == {}
    assert (task["status"], task["attempts"]) == ("succeeded", 1)


async def test_ollama_failing_twice_then_recovering_completes_within_one_attempt(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    fake = await launcher.fake_ollama({"models": [MODEL], "reply": REPLY, "fail_times": 2})
    worker = await launcher.worker(shared_api, ollama_env(fake.url, ENGLOG_OLLAMA_RETRIES="2"))
    account = await http.sign_up()

    insight_id = await request_insight(http, account)
    row = await db.wait_for_insight(insight_id)

    assert (row["status"], WEEKLY_STORED in row["content"], row["model"]) == (
        "COMPLETED",
        True,
        MODEL,
    )
    assert (row["error"], row["attempts"]) == (None, 1)
    task = await db.task_of(insight_id)
    assert (task["status"], task["attempts"], task["last_error"]) == ("succeeded", 1, None)
    assert len(await fake.insight_requests()) == 3
    failed = re.findall(r"Ollama attempt (\d) failed: (.*)", worker.output())
    reason = "Ollama answered HTTP 500: llama runner process has terminated: exit status 2"
    assert failed == [("1", reason), ("2", reason)]


async def test_ollama_hanging_times_out_is_retried_and_finally_fails_with_the_reason(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    fake = await launcher.fake_ollama({"models": [MODEL], "hang": True})
    account = await http.sign_up()
    insight_id = await request_insight(http, account)
    # Two attempts instead of the default five, so the test ends after two timeouts.
    await db.connection.execute(
        "UPDATE task SET max_attempts = 2 FROM insight WHERE insight.task_id = task.id "
        "AND insight.id = $1::uuid",
        insight_id,
    )
    await launcher.worker(shared_api, ollama_env(fake.url, ENGLOG_TASK_TIMEOUT_SECONDS="1"))

    async def insight_nudging_the_retry() -> dict[str, Any]:
        # A timed-out attempt is retried after a random backoff of up to 2 s: run it now.
        await db.connection.execute(
            "UPDATE task SET run_after = now() FROM insight WHERE insight.task_id = task.id "
            "AND insight.id = $1::uuid AND task.status = 'queued' AND task.attempts = 1",
            insight_id,
        )
        return await db.insight(insight_id)

    row = await eventually(
        insight_nudging_the_retry, lambda row: row["status"] in FINAL, what="the insight ending"
    )

    reason = "Ollama did not answer within 1 s"
    assert (row["status"], row["error"], row["content"], row["attempts"]) == (
        "FAILED",
        reason,
        None,
        2,
    )
    task = await db.task_of(insight_id)
    assert (task["status"], task["attempts"], task["last_error"]) == ("dead", 2, reason)
    assert len(await fake.insight_requests()) == 2


async def test_a_model_ollama_does_not_have_fails_the_insight_at_once_without_retrying(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    fake = await launcher.fake_ollama({"models": ["some-other-model:7b"]})
    await launcher.worker(shared_api, ollama_env(fake.url))
    account = await http.sign_up()

    insight_id = await request_insight(http, account)
    row = await db.wait_for_insight(insight_id)

    reason = f'Ollama model not found: model "{MODEL}" not found, try pulling it first'
    assert (row["status"], row["error"], row["model"], row["attempts"]) == (
        "FAILED",
        reason,
        None,
        1,
    )
    task = await db.task_of(insight_id)
    assert (task["status"], task["attempts"], task["last_error"]) == ("failed", 1, reason)
    assert len(await fake.insight_requests()) == 1
