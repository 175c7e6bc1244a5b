"""OllamaLLM with the real `ollama` client against the fake Ollama server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.ollama import FakeOllama, Script, expected_stats
from tests.worker import ProgressRecorder, closed_port_url, worker_settings
from worker.jobs import TaskFailed
from worker.llm import CIRCUIT_OPEN, CircuitBreaker, OllamaLLM

SYSTEM = "You write weekly reports."
PROMPT = "Totals: 12.5 h in 3 entries."
TOKENS = ("Your ", "week ", "in ", "short.")
SCHEMA = {"type": "object", "properties": {"tags": {"type": "array"}}, "required": ["tags"]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state(breaker: CircuitBreaker) -> str:
    # A call, not the property, so that mypy does not keep an earlier assert's narrowing.
    return breaker.state


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOllama) -> FakeOllama:
    server.script = Script(reply="".join(TOKENS), tokens=TOKENS)
    server.clear_requests()
    return server


@pytest.fixture
async def llm(fake: FakeOllama) -> AsyncIterator[OllamaLLM]:
    async with OllamaLLM(worker_settings(fake.url, num_ctx=2048)) as client:
        yield client


async def stream(llm: OllamaLLM, progress: ProgressRecorder | None = None) -> str:
    generation = await llm.stream_chat(
        system=SYSTEM, prompt=PROMPT, progress=progress or ProgressRecorder(), expected_tokens=4
    )
    return generation.content


async def test_stream_chat_passes_deltas_in_order_and_returns_the_whole_answer(
    fake: FakeOllama, llm: OllamaLLM
) -> None:
    progress = ProgressRecorder()

    generation = await llm.stream_chat(
        system=SYSTEM, prompt=PROMPT, progress=progress, expected_tokens=4
    )

    assert progress.calls == [("Your ", 25), ("week ", 50), ("in ", 75), ("short.", 99)]
    assert generation.content == "Your week in short."
    assert generation.model == "llama3.2:3b"
    assert generation.stats == expected_stats(prompt_chars=len(SYSTEM) + len(PROMPT), eval_count=4)
    [request] = fake.generation_requests
    assert (request.path, request.model, request.stream, request.num_ctx) == (
        "/api/chat",
        "llama3.2:3b",
        True,
        2048,
    )
    assert request.messages == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": PROMPT},
    ]
    assert request.format is None


async def test_stream_chat_caps_the_percent_at_99_when_the_answer_runs_long(
    fake: FakeOllama, llm: OllamaLLM
) -> None:
    progress = ProgressRecorder()

    await llm.stream_chat(system=SYSTEM, prompt=PROMPT, progress=progress, expected_tokens=2)

    assert progress.percents == [50, 99, 99, 99]


async def test_stream_chat_retries_server_errors_and_completes(
    fake: FakeOllama, llm: OllamaLLM
) -> None:
    fake.script = Script(reply="Recovered answer.", fail_times=2)
    progress = ProgressRecorder()

    assert await stream(llm, progress) == "Recovered answer."
    assert len(fake.generation_requests) == 3
    assert progress.deltas == ["Recovered ", "answer."]
    assert state(llm.breaker) == "closed"


async def test_stream_chat_fails_retryable_when_the_retries_run_out(
    fake: FakeOllama, llm: OllamaLLM
) -> None:
    fake.script = Script(fail_times=10)

    with pytest.raises(TaskFailed) as failed:
        await stream(llm)

    assert failed.value.retryable is True
    assert failed.value.reason == (
        "Ollama answered HTTP 500: llama runner process has terminated: exit status 2 (3 attempts)"
    )
    assert len(fake.generation_requests) == 3


async def test_stream_chat_gives_up_on_a_hanging_ollama_at_the_task_timeout(
    fake: FakeOllama,
) -> None:
    fake.script = Script(hang=True)

    async with OllamaLLM(worker_settings(fake.url, timeout=0.5)) as llm:
        with pytest.raises(TaskFailed) as failed:
            await stream(llm)

    assert (failed.value.reason, failed.value.retryable) == (
        "Ollama did not answer within 0.5 s",
        True,
    )
    assert len(fake.generation_requests) == 1


async def test_stream_chat_times_out_a_stream_that_stalls_after_some_tokens(
    fake: FakeOllama,
) -> None:
    fake.script = Script(reply="".join(TOKENS), tokens=TOKENS, hang_after_tokens=2)
    progress = ProgressRecorder()

    async with OllamaLLM(worker_settings(fake.url, timeout=0.5)) as llm:
        with pytest.raises(TaskFailed) as failed:
            await stream(llm, progress)

    assert (failed.value.reason, failed.value.retryable) == (
        "Ollama did not answer within 0.5 s",
        True,
    )
    assert progress.deltas == ["Your ", "week "]


async def test_stream_chat_fails_at_once_for_a_model_ollama_does_not_have(
    fake: FakeOllama,
) -> None:
    async with OllamaLLM(worker_settings(fake.url, model="mistral:7b", retries=3)) as llm:
        with pytest.raises(TaskFailed) as failed:
            await stream(llm)

        assert failed.value.retryable is False
        assert failed.value.reason == (
            'Ollama model not found: model "mistral:7b" not found, try pulling it first'
        )
        assert len(fake.generation_requests) == 1
        assert state(llm.breaker) == "closed"


async def test_garbage_mid_stream_fails_the_task_without_retrying_after_tokens_were_sent(
    fake: FakeOllama, llm: OllamaLLM
) -> None:
    fake.script = Script(reply="".join(TOKENS), tokens=TOKENS, garbage_after_tokens=2)
    progress = ProgressRecorder()

    with pytest.raises(TaskFailed) as failed:
        await stream(llm, progress)

    assert (failed.value.reason, failed.value.retryable) == (
        "Ollama sent a malformed response (1 attempt)",
        True,
    )
    assert progress.deltas == ["Your ", "week "]
    assert len(fake.generation_requests) == 1


async def test_garbage_before_the_first_token_is_retried(fake: FakeOllama, llm: OllamaLLM) -> None:
    fake.script = Script(garbage_after_tokens=0)

    with pytest.raises(TaskFailed) as failed:
        await stream(llm)

    assert failed.value.reason == "Ollama sent a malformed response (3 attempts)"
    assert len(fake.generation_requests) == 3


async def test_an_error_line_mid_stream_fails_the_task(fake: FakeOllama, llm: OllamaLLM) -> None:
    fake.script = Script(reply="".join(TOKENS), tokens=TOKENS, error_after_tokens=1)

    with pytest.raises(TaskFailed) as failed:
        await stream(llm)

    assert (failed.value.reason, failed.value.retryable) == (
        "Ollama failed mid-answer: an error was encountered while running the model (1 attempt)",
        True,
    )


async def test_stream_chat_fails_retryable_when_nothing_listens() -> None:
    async with OllamaLLM(worker_settings(closed_port_url(), retries=1)) as llm:
        with pytest.raises(TaskFailed) as failed:
            await stream(llm)

    assert (failed.value.reason, failed.value.retryable) == (
        "cannot connect to Ollama (2 attempts)",
        True,
    )


async def test_the_breaker_opens_fails_fast_then_lets_a_trial_through(fake: FakeOllama) -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=2, reset_seconds=30, clock=clock)
    fake.script = Script(fail_times=100)
    async with OllamaLLM(worker_settings(fake.url, retries=0), breaker=breaker) as llm:
        for _ in range(2):
            with pytest.raises(TaskFailed):
                await stream(llm)
        assert state(breaker) == "open"

        with pytest.raises(TaskFailed) as failed:
            await stream(llm)
        assert (failed.value.reason, failed.value.retryable) == (CIRCUIT_OPEN, True)
        assert await llm.available() is False
        assert len(fake.requests) == 2  # neither the third call nor available() reached it

        clock.now += 30
        fake.script = Script(reply="Back again.")
        assert state(breaker) == "half_open"
        assert await stream(llm) == "Back again."
        assert state(breaker) == "closed"
        assert len(fake.generation_requests) == 3


async def test_a_failed_trial_reopens_the_breaker(fake: FakeOllama) -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, reset_seconds=10, clock=clock)
    fake.script = Script(fail_times=100)
    async with OllamaLLM(worker_settings(fake.url, retries=3), breaker=breaker) as llm:
        with pytest.raises(TaskFailed) as first:
            await stream(llm)
        clock.now += 10
        with pytest.raises(TaskFailed) as trial:
            await stream(llm)

    # The breaker opened at the first failure: no retries, the real cause reported.
    reason = "Ollama answered HTTP 500: llama runner process has terminated: exit status 2"
    assert first.value.reason == trial.value.reason == f"{reason} (1 attempt)"
    assert state(breaker) == "open"
    assert len(fake.generation_requests) == 2


async def test_a_cancelled_trial_lets_the_next_call_try_again(fake: FakeOllama) -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, reset_seconds=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    fake.script = Script(hang=True)
    async with OllamaLLM(worker_settings(fake.url), breaker=breaker) as llm:
        trial = asyncio.create_task(stream(llm))
        await asyncio.to_thread(fake.wait_for_requests, 1)
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        assert state(breaker) == "half_open"

        fake.script = Script(reply="Fine now.")
        assert await stream(llm) == "Fine now."
    assert state(breaker) == "closed"


async def test_a_client_error_is_not_retried(fake: FakeOllama, llm: OllamaLLM) -> None:
    fake.script = Script(fail_times=1, fail_status=400, fail_message="invalid format schema")

    with pytest.raises(TaskFailed) as failed:
        await stream(llm)

    assert (failed.value.reason, failed.value.retryable) == (
        "Ollama answered HTTP 400: invalid format schema",
        False,
    )
    assert len(fake.generation_requests) == 1


def test_the_breaker_admits_one_trial_at_a_time_and_frees_it_when_cancelled() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, reset_seconds=5, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert state(breaker) == "closed"  # a success in between resets the count
    breaker.record_failure()
    assert state(breaker) == "open"

    clock.now += 5
    assert breaker.before_call() is True  # the trial
    with pytest.raises(TaskFailed):
        breaker.before_call()  # a second call while the trial runs
    breaker.release_trial()  # the trial was cancelled
    assert breaker.before_call() is True
    breaker.record_success()
    assert breaker.before_call() is False
    assert state(breaker) == "closed"


async def test_structured_returns_the_parsed_object_and_sends_the_schema(
    fake: FakeOllama, llm: OllamaLLM
) -> None:
    fake.script = Script(structured_reply='{"tags": ["graphql", "pagination"]}')

    answer = await llm.structured(system=SYSTEM, prompt=PROMPT, schema=SCHEMA)

    assert answer == {"tags": ["graphql", "pagination"]}
    [request] = fake.generation_requests
    assert (request.format, request.stream, request.num_ctx) == (SCHEMA, False, 2048)


@pytest.mark.parametrize("reply", ["{not json", '["graphql"]', ""])
async def test_structured_fails_without_retry_when_the_answer_is_not_a_json_object(
    fake: FakeOllama, llm: OllamaLLM, reply: str
) -> None:
    fake.script = Script(structured_reply=reply)

    with pytest.raises(TaskFailed) as failed:
        await llm.structured(system=SYSTEM, prompt=PROMPT, schema=SCHEMA)

    assert (failed.value.reason, failed.value.retryable) == (
        "the model's answer was not the JSON object asked for",
        False,
    )
    assert len(fake.generation_requests) == 2  # asked once more, then given up
    assert state(llm.breaker) == "closed"


async def test_available_asks_for_the_model_list(fake: FakeOllama, llm: OllamaLLM) -> None:
    assert await llm.available() is True
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/api/tags")]


async def test_available_is_false_when_nothing_listens() -> None:
    async with OllamaLLM(worker_settings(closed_port_url())) as llm:
        assert await llm.available() is False


def test_ollama_llm_needs_a_host() -> None:
    with pytest.raises(ValueError, match="ollama_host"):
        OllamaLLM(worker_settings(None))
