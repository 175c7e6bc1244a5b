"""The insight and enrich_entry tasks, with and without a model."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fakes.insight_answers import PROSE, narrative, sections_of
from tests.fakes.ollama import FakeOllama, Script
from tests.worker import JOB, ProgressRecorder, closed_port_url, worker_settings
from worker.builtin import builtin_report
from worker.insights.figures import figure_lines, heading
from worker.jobs import EnrichEntryJob, InsightChecks, TaskFailed
from worker.llm import CircuitBreaker, OllamaLLM
from worker.prompt import SUGGESTION_SCHEMA, build_enrich_prompt, build_insight_prompt
from worker.tasks.enrich_entry import keyword_suggestion, normalise, run_enrich_entry
from worker.tasks.insight import run_insight

ENTRY = EnrichEntryJob(
    entry_id="e1",
    title="Code review of the GraphQL pagination",
    type="REVIEW",
    description="Checked the Python resolvers; going to merge after CI.",
    existing_tags=("go", "code-review", "GraphQL", "python", "ci/cd", "  "),
)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOllama) -> FakeOllama:
    server.script = Script()
    server.clear_requests()
    return server


async def test_without_ollama_the_insight_is_the_builtin_report_streamed_in_sections() -> None:
    progress = ProgressRecorder()

    generation = await run_insight(JOB, llm=None, progress=progress)

    assert (generation.model, generation.content, generation.stats) == (
        "builtin",
        builtin_report(JOB),
        {},
    )
    assert generation.checks == InsightChecks()  # no model: nothing to check
    assert "".join(progress.deltas) == generation.content
    assert len(progress.calls) == generation.content.count("\n\n") + 1
    assert progress.percents == sorted(progress.percents)
    assert progress.percents[-1] == 99


async def test_an_unreachable_ollama_at_start_gives_the_builtin_report() -> None:
    async with OllamaLLM(worker_settings(closed_port_url())) as llm:
        generation = await run_insight(JOB, llm=llm, progress=ProgressRecorder())

    assert (generation.model, generation.content) == ("builtin", builtin_report(JOB))


async def test_an_open_circuit_gives_the_builtin_report_without_asking_ollama(
    fake: FakeOllama,
) -> None:
    breaker = CircuitBreaker(failures=1, reset_seconds=60)
    breaker.record_failure()
    async with OllamaLLM(worker_settings(fake.url), breaker=breaker) as llm:
        generation = await run_insight(JOB, llm=llm, progress=ProgressRecorder())

    assert generation.model == "builtin"
    assert fake.requests == []


async def test_with_ollama_the_insight_streams_the_figures_then_the_models_sections(
    fake: FakeOllama,
) -> None:
    reply = narrative(sections_of("WEEKLY_REPORT"))
    fake.script = Script(reply=reply)
    progress = ProgressRecorder()

    async with OllamaLLM(worker_settings(fake.url)) as llm:
        report = await run_insight(JOB, llm=llm, progress=progress)

    assert report.model == "llama3.2:3b"
    figures = "\n".join([heading(JOB), "", *figure_lines(JOB), "", ""])
    assert report.content.startswith(figures)
    assert "## Accomplishments\n\n" + PROSE in report.content
    assert "Here is the narrative" not in report.content  # the preamble is not a section
    assert progress.deltas[0] == figures
    assert "".join(progress.deltas[1:]) == reply
    assert [r.path for r in fake.requests] == ["/api/tags", "/api/chat"]
    system, prompt = build_insight_prompt(JOB)
    assert fake.requests[1].messages == [
        {"role": "system", "content": system},
        {"role": "user", "content": prompt},
    ]


async def test_a_model_failure_mid_task_fails_the_task_instead_of_falling_back(
    fake: FakeOllama,
) -> None:
    fake.script = Script(fail_times=5)

    async with OllamaLLM(worker_settings(fake.url, retries=1)) as llm:
        with pytest.raises(TaskFailed) as failed:
            await run_insight(JOB, llm=llm, progress=ProgressRecorder())

    assert failed.value.retryable is True


def test_without_a_model_existing_tags_named_in_the_entry_are_suggested() -> None:
    suggestion = keyword_suggestion(ENTRY)

    # "go" is not in "going" or "pagination"; "code-review" matches "Code review".
    assert suggestion.tags == ("code-review", "GraphQL", "python")
    assert (suggestion.skills, suggestion.model) == ((), "builtin")


async def test_run_enrich_entry_without_a_model_uses_the_keywords() -> None:
    assert await run_enrich_entry(ENTRY, llm=None) == keyword_suggestion(ENTRY)
    async with OllamaLLM(worker_settings(closed_port_url())) as unreachable:
        assert await run_enrich_entry(ENTRY, llm=unreachable) == keyword_suggestion(ENTRY)


async def test_the_models_suggestions_are_normalised(fake: FakeOllama) -> None:
    answer = {
        "tags": [" graphql ", "GraphQL", "x" * 80, "", 7, "pagination", "api", "perf", "extra"],
        "skills": ["Code  review", "code review", "API design"],
    }
    fake.script = Script(structured_reply=json.dumps(answer))

    async with OllamaLLM(worker_settings(fake.url)) as llm:
        suggestion = await run_enrich_entry(ENTRY, llm=llm)

    assert suggestion.tags == ("GraphQL", "x" * 50, "pagination", "api", "perf")
    assert suggestion.skills == ("Code review", "API design")
    assert suggestion.model == "llama3.2:3b"
    assert [r.path for r in fake.requests] == ["/api/tags", "/api/chat"]
    request = fake.requests[1]
    _, prompt = build_enrich_prompt(ENTRY)
    assert request.format == SUGGESTION_SCHEMA
    assert request.messages[1] == {"role": "user", "content": prompt}


@pytest.mark.parametrize(
    "reply", ['{"tags": "graphql, api", "skills": []}', '{"tags": []}', '{"skills": [], "x": 1}']
)
async def test_a_suggestion_without_lists_fails_the_task(fake: FakeOllama, reply: str) -> None:
    fake.script = Script(structured_reply=reply)

    async with OllamaLLM(worker_settings(fake.url)) as llm:
        with pytest.raises(TaskFailed) as failed:
            await run_enrich_entry(ENTRY, llm=llm)

    assert (failed.value.reason, failed.value.retryable) == (
        "the model's answer had no lists of tags and skills",
        False,
    )


async def test_a_suggestion_that_is_not_json_fails_the_task(fake: FakeOllama) -> None:
    fake.script = Script(structured_reply="tags: graphql")

    async with OllamaLLM(worker_settings(fake.url)) as llm:
        with pytest.raises(TaskFailed) as failed:
            await run_enrich_entry(ENTRY, llm=llm)

    assert failed.value.retryable is False


def test_normalise_keeps_five_distinct_trimmed_names() -> None:
    names = normalise(["  A  b ", "a B", "c", None, "d", "e", "f", "g"], existing=["A B"])

    assert names == ("A B", "c", "d", "e", "f")
