"""Insights a manager can trust, through the database: the fake Ollama's adversarial answers
each end as specified, and every stored report holds exactly the figures the database holds
(recomputed here in SQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.tasks.results import InvalidResult, check_success
from protos.generated.englog.worker import v1 as pb
from tests.factories import Account, Api
from tests.fakes.insight_answers import (
    BODIES,
    cut_off,
    date_loop,
    invented_totals,
    narrative,
    sections_of,
    wrong_language,
)
from tests.fakes.ollama import FakeOllama, Script
from tests.graph.insights.dataset import PERIOD_END, PERIOD_START, TIMEZONE
from tests.graph.insights.support import GET, Database, Seeded, request_insight
from tests.graph.insights.writing import sql_figures, without_tags, write_insight
from tests.worker import worker_settings
from worker.builtin import FALLBACK_NOTICE, NOTICE
from worker.llm import OllamaLLM

MODEL = "llama3.2:3b"
WEEKLY = sections_of("WEEKLY_REPORT")
# True of the hand-made period: Payment API took 2 h on Tuesday 7 July, 60% of it coding.
CORRECT = narrative(
    WEEKLY,
    ["You shipped the Payment API (2.0 h) on 2026-07-07; coding was 60% of the time.", *BODIES[1:]],
)
CHECKS = "checks { supportedNumbers unsupportedNumbers retried fallback removed }"
GET_CHECKED = GET.replace("completedAt", f"completedAt editedContent {CHECKS}")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
async def llm(server: FakeOllama) -> AsyncIterator[OllamaLLM]:
    server.script = Script()
    server.clear_requests()
    async with OllamaLLM(worker_settings(server.url)) as client:
        yield client


def checks(
    supported: int = 0,
    unsupported: int = 0,
    *,
    retried: bool = False,
    fallback: bool = False,
    removed: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "supportedNumbers": supported,
        "unsupportedNumbers": unsupported,
        "retried": retried,
        "fallback": fallback,
        "removed": list(removed),
    }


LOOPED = "first answer: the answer repeated itself and was stopped"
SCENARIOS = {
    "correct": ((CORRECT,), "stop", MODEL, None, checks(3)),
    "invented totals": (
        (invented_totals(WEEKLY),),
        "stop",
        MODEL,
        None,
        checks(
            0,
            3,
            removed=(
                "You logged 62.5 hours across 14 entries this period.",
                "Coding took 85% of the time.",
            ),
        ),
    ),
    "a loop of dates, then a correct one": (
        (date_loop(), CORRECT),
        "stop",
        MODEL,
        None,
        checks(3, retried=True),
    ),
    "a loop of dates twice": (
        (date_loop(),),
        "stop",
        "builtin",
        f"{MODEL}: {LOOPED}; retried answer: the answer repeated itself and was stopped",
        checks(retried=True, fallback=True),
    ),
    "cut off twice": (
        (cut_off(WEEKLY),),
        "length",
        "builtin",
        f"{MODEL}: first answer: the answer was cut off at its token limit; "
        "retried answer: the answer was cut off at its token limit",
        checks(retried=True, fallback=True),
    ),
    "empty, then the wrong language": (
        ("", wrong_language(WEEKLY)),
        "stop",
        "builtin",
        f"{MODEL}: first answer: the answer was empty; "
        "retried answer: the answer was not in English",
        checks(retried=True, fallback=True),
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_each_answer_ends_as_specified_with_the_databases_figures(
    api: Api,
    account: Account,
    seeded: Seeded,
    db: Database,
    sessions: async_sessionmaker[AsyncSession],
    server: FakeOllama,
    llm: OllamaLLM,
    scenario: str,
) -> None:
    replies, done_reason, model, error, expected_checks = SCENARIOS[scenario]
    server.script = Script(models=(MODEL,), replies=replies, done_reason=done_reason)
    insight_id = (await request_insight(api, account))["id"]

    await write_insight(sessions, insight_id, llm)

    shown = (await api.data(GET_CHECKED, {"id": insight_id}, account.access_token))["insight"]
    assert (shown["status"], shown["model"], shown["error"]) == ("COMPLETED", model, error)
    assert shown["checks"] == expected_checks
    assert shown["editedContent"] is None
    figures = await sql_figures(
        db.connection,
        user_id=account.user_id,
        timezone=TIMEZONE,
        period_start=PERIOD_START,
        period_end=PERIOD_END,
    )
    heading = f"# Weekly report: {PERIOD_START} to {PERIOD_END}\n\n"
    content = without_tags(shown["content"])
    if model == "builtin":
        assert content.startswith(f"{heading}{FALLBACK_NOTICE}\n\n{figures}\n\n")
    else:
        assert content.startswith(f"{heading}{figures}\n\n## Accomplishments\n\n")
        assert "2026-13" not in content
        assert "62.5" not in content
    [row] = await db.insights(account)
    assert row["checks"] == {
        "supported_numbers": expected_checks["supportedNumbers"],
        "unsupported_numbers": expected_checks["unsupportedNumbers"],
        "retried": expected_checks["retried"],
        "fallback": expected_checks["fallback"],
        "removed": expected_checks["removed"],
    }


async def test_without_a_model_the_builtin_report_holds_the_databases_figures(
    api: Api,
    account: Account,
    seeded: Seeded,
    db: Database,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    insight_id = (await request_insight(api, account))["id"]

    await write_insight(sessions, insight_id, None)

    shown = (await api.data(GET_CHECKED, {"id": insight_id}, account.access_token))["insight"]
    assert (shown["model"], shown["error"], shown["checks"]) == ("builtin", None, checks())
    figures = await sql_figures(
        db.connection,
        user_id=account.user_id,
        timezone=TIMEZONE,
        period_start=PERIOD_START,
        period_end=PERIOD_END,
    )
    heading = f"# Weekly report: {PERIOD_START} to {PERIOD_END}\n\n"
    assert without_tags(shown["content"]).startswith(f"{heading}{NOTICE}\n\n{figures}\n\n")


def test_a_workers_checks_are_bounded_and_its_failure_cleaned_before_they_are_stored() -> None:
    def success(**checks: Any) -> pb.Success:
        return pb.Success(content="x", model="m", insight_checks=pb.InsightChecks(**checks))

    checked = check_success(
        success(supported_numbers=2, retried=True, removed=["a"], failure="bad\x00 answer ")
    )
    assert checked.insight_checks == {
        "supported_numbers": 2,
        "unsupported_numbers": 0,
        "retried": True,
        "fallback": False,
        "removed": ["a"],
    }
    assert checked.insight_failure == "bad\ufffd answer"
    assert check_success(pb.Success(content="x", model="m")).insight_checks is None
    with pytest.raises(InvalidResult) as refused:
        check_success(success(removed=["y" * 501], unsupported_numbers=100_001))
    assert str(refused.value) == (
        "success.insight_checks.unsupported_numbers: must be at most 100000; "
        "success.insight_checks.removed.0: must be at most 500 characters, without control "
        "characters"
    )
    with pytest.raises(InvalidResult, match="must have at most 200 items"):
        check_success(success(removed=["z"] * 201))
