"""The insight task against the fake Ollama's adversarial answers: each ends as specified,
with EngLog's figures and never the refused text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
from tests.worker import JOB, ProgressRecorder, worker_settings
from worker.builtin import FALLBACK_NOTICE, builtin_report
from worker.insights.figures import assemble
from worker.jobs import InsightChecks
from worker.llm import STOP_CHECK_EVERY, OllamaLLM
from worker.prompt import build_insight_prompt
from worker.tasks.insight import STOP, Report, run_insight

WEEKLY = sections_of("WEEKLY_REPORT")
MODEL = "llama3.2:3b"
GOOD = narrative(WEEKLY)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOllama) -> FakeOllama:
    server.script = Script()
    server.clear_requests()
    return server


async def write(fake: FakeOllama, *replies: str, **script: object) -> Report:
    fake.script = Script(replies=replies, **script)  # type: ignore[arg-type]
    async with OllamaLLM(worker_settings(fake.url)) as llm:
        return await run_insight(JOB, llm=llm, progress=ProgressRecorder())


def fallback(failure: str) -> tuple[str, str, InsightChecks]:
    checks = InsightChecks(retried=True, fallback=True, failure=f"{MODEL}: {failure}")
    return builtin_report(JOB, notice=FALLBACK_NOTICE), "builtin", checks


async def test_a_correct_answer_is_stored_with_englogs_figures_and_its_sections(
    fake: FakeOllama,
) -> None:
    bodies = ["You coded for 4.5 h on cursor pagination on 2026-11-02.", *BODIES[1:]]

    report = await write(fake, narrative(WEEKLY, bodies))

    sections = dict(zip(WEEKLY, [bodies[0], BODIES[1], BODIES[2]], strict=True))
    assert (report.content, report.model) == (
        assemble(JOB, sections, model=MODEL, removed=0),
        MODEL,
    )
    assert report.checks == InsightChecks(supported_numbers=2)
    [request] = fake.generation_requests
    assert request.options["num_predict"] == 1000
    assert request.options["stop"] == list(STOP)
    assert request.options["temperature"] == 0.4


async def test_invented_totals_are_taken_out_and_the_rest_is_stored(fake: FakeOllama) -> None:
    report = await write(fake, invented_totals(WEEKLY))

    sections = dict(zip(WEEKLY, BODIES, strict=False))
    assert report.content == assemble(JOB, sections, model=MODEL, removed=2)
    assert "62.5" not in report.content
    assert "85%" not in report.content
    assert report.checks == InsightChecks(
        unsupported_numbers=3,
        removed=(
            "You logged 62.5 hours across 14 entries this period.",
            "Coding took 85% of the time.",
        ),
    )


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (date_loop(), "the answer repeated itself and was stopped"),  # cut while streaming
        ("", "the answer was empty"),
        (wrong_language(WEEKLY), "the answer was not in English"),
    ],
)
async def test_a_bad_first_answer_is_asked_for_again_more_firmly(
    fake: FakeOllama, first: str, reason: str
) -> None:
    report = await write(fake, first, GOOD)

    assert report.model == MODEL
    assert report.checks == InsightChecks(retried=True)
    assert report.content == assemble(
        JOB, dict(zip(WEEKLY, BODIES, strict=False)), model=MODEL, removed=0
    )
    one, two = fake.generation_requests
    assert (one.options["seed"] + 1, one.options["temperature"]) == (two.options["seed"], 0.4)
    assert one.messages[1]["content"] == build_insight_prompt(JOB)[1]
    assert two.options["temperature"] < one.options["temperature"]
    assert two.options["repeat_penalty"] > one.options["repeat_penalty"]
    assert two.messages[1]["content"] == build_insight_prompt(JOB, firmer=reason)[1]
    assert f"Your previous answer could not be used ({reason})" in two.messages[1]["content"]


async def test_two_bad_answers_fall_back_to_the_labelled_builtin_report(fake: FakeOllama) -> None:
    report = await write(fake, date_loop(), "")

    assert (report.content, report.model, report.checks) == fallback(
        "first answer: the answer repeated itself and was stopped; "
        "retried answer: the answer was empty"
    )
    assert report.stats["eval_count"] == 0  # the retry's: it wrote nothing


async def test_an_answer_cut_at_the_token_cap_is_refused(fake: FakeOllama) -> None:
    report = await write(fake, cut_off(WEEKLY), done_reason="length")

    assert (report.content, report.model, report.checks) == fallback(
        "first answer: the answer was cut off at its token limit; "
        "retried answer: the answer was cut off at its token limit"
    )


async def test_like_ollama_the_fake_ends_an_answer_at_num_predict_or_a_stop(
    fake: FakeOllama,
) -> None:
    fake.script = Script(reply="one two three four five six seven")

    async with OllamaLLM(worker_settings(fake.url)) as llm:
        capped = await llm.stream_chat(
            system="s",
            prompt="p",
            progress=ProgressRecorder(),
            expected_tokens=7,
            options={"num_predict": 3},
        )
        stopped = await llm.stream_chat(
            system="s",
            prompt="p",
            progress=ProgressRecorder(),
            expected_tokens=7,
            options={"num_predict": 30, "stop": ["ve s"]},
        )

    assert (capped.content, capped.done_reason) == ("one two three ", "length")
    assert (stopped.content, stopped.done_reason) == ("one two three four fi", "stop")


async def test_a_loop_is_cut_while_streaming_long_before_the_cap(fake: FakeOllama) -> None:
    loop = date_loop(2_000)
    progress = ProgressRecorder()
    fake.script = Script(replies=(loop, GOOD))

    async with OllamaLLM(worker_settings(fake.url)) as llm:
        report = await run_insight(JOB, llm=llm, progress=progress)

    assert report.checks == InsightChecks(retried=True)
    aside = next(i for i, d in enumerate(progress.deltas) if "set this answer aside" in d)
    streamed = progress.deltas[1:aside]  # after the figures, before the note
    # Read until the first look at it that saw the loop, of 6,000 deltas.
    assert len(streamed) == 2 * STOP_CHECK_EVERY
    assert loop.startswith("".join(streamed))
