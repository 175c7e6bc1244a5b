"""The worker's Ollama client: streaming chat, structured output, retries and a circuit breaker.

Failure policy, decided here once for every task:

- connection errors, 5xx, 408/429, errors inside the stream and malformed stream lines are
  *transient*: retried `ollama_retries` times in the task with exponential backoff, then
  `TaskFailed(retryable=True)` so the queue tries again later. A streamed answer is retried in
  the task only while nothing has been streamed yet: the user is already watching those
  tokens, and a second, different answer must not be appended to them.
- a missing model (404) and other 4xx are *permanent*: `TaskFailed(retryable=False)` at once.
- the whole task, retries included, is bounded by `task_timeout_seconds`; running out of time is
  transient.
- a structured answer that is not a JSON object is asked for once more (small models slip now
  and then), then `TaskFailed(retryable=False)`: Ollama works, the model does not follow the
  schema, and the queue's retries would only repeat that.
- `CircuitBreaker` counts consecutive transient failures across tasks; while it is open, calls
  fail fast without touching Ollama.

Nothing here logs the user's text (prompts or answers): only models, counts and error kinds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
import ollama
import pydantic

from core import tracing
from worker.jobs import LOOP_CUT, Generation, Progress, TaskFailed
from worker.settings import WorkerSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]
STAT_KEYS = (
    "prompt_eval_count",
    "eval_count",
    "total_duration",
    "load_duration",
    "prompt_eval_duration",
    "eval_duration",
)
CIRCUIT_OPEN = "Ollama unavailable (circuit open)"
# How often (in deltas) a stream's `stop_when` looks at the text so far.
STOP_CHECK_EVERY = 16
# A reachability probe must not take a task's whole budget.
AVAILABLE_TIMEOUT_SECONDS = 5.0
# What a dead or flaky Ollama, a dropped connection or a proxy cutting a stream raise.
_TRANSIENT_ERRORS = (
    ConnectionError,
    httpx.TransportError,
    json.JSONDecodeError,
    pydantic.ValidationError,
)


class CircuitBreaker:
    """Opens after `failures` consecutive transient failures; lets one trial call through
    `reset_seconds` later (half-open), which closes it on success and re-opens it on failure."""

    def __init__(
        self,
        *,
        failures: int,
        reset_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_seconds:
            return "half_open"
        return "open"

    def before_call(self) -> bool:
        """Raise `TaskFailed` when a call must not reach Ollama now; True for the trial call."""
        state = self.state
        if state == "closed":
            return False
        if state == "open" or self._trial_running:
            raise TaskFailed(CIRCUIT_OPEN, retryable=True)
        self._trial_running = True
        return True

    def record_success(self) -> None:
        if self._opened_at is not None:
            logger.info("Ollama circuit closed")
        self._consecutive = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._consecutive += 1
        if self._trial_running or (self._opened_at is None and self._consecutive >= self.failures):
            logger.warning(
                "Ollama circuit open after %d consecutive failures; next try in %g s",
                self._consecutive,
                self.reset_seconds,
            )
            self._opened_at = self._clock()
        self._trial_running = False

    def release_trial(self) -> None:
        """The trial call ended without telling whether Ollama works (it was cancelled)."""
        self._trial_running = False


class _Transient(Exception):
    """An attempt failed in a way another attempt may not."""


class OllamaLLM:
    """One per worker process; holds the HTTP connection pool, so close it (`async with`)."""

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        client: ollama.AsyncClient | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if client is None and settings.ollama_host is None:
            raise ValueError("OllamaLLM needs settings.ollama_host (None means: no Ollama)")
        self.settings = settings
        self.model = settings.ollama_model
        # No read timeout: generation is bounded by the task timeout; connecting is not.
        self._client = client or ollama.AsyncClient(
            host=settings.ollama_host, timeout=httpx.Timeout(None, connect=10.0)
        )
        self.breaker = breaker or CircuitBreaker(
            failures=settings.breaker_failures, reset_seconds=settings.breaker_reset_seconds
        )

    async def aclose(self) -> None:
        await self._client.close()  # type: ignore[no-untyped-call]  # unannotated in ollama

    async def __aenter__(self) -> OllamaLLM:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def available(self) -> bool:
        """Whether Ollama answers (GET /api/tags); False at once while the circuit is open."""
        if self.breaker.state == "open":
            return False
        try:
            async with asyncio.timeout(
                min(AVAILABLE_TIMEOUT_SECONDS, self.settings.task_timeout_seconds)
            ):
                listed = await self._client.list()
        except (ollama.ResponseError, TimeoutError, *_TRANSIENT_ERRORS) as exc:
            logger.info("Ollama not available: %s", type(exc).__name__)
            return False
        names = {m.model for m in listed.models}
        if self.model not in names and f"{self.model}:latest" not in names:
            logger.warning("Ollama does not list the model %s; pull it first", self.model)
        return True

    async def stream_chat(
        self,
        *,
        system: str,
        prompt: str,
        progress: Progress,
        expected_tokens: int,
        options: Mapping[str, Any] | None = None,
        stop_when: Callable[[str], bool] | None = None,
        allow_empty: bool = False,
    ) -> Generation:
        """Stream the answer through `progress` (delta, percent ≤ 99) and return it whole.

        `options` join num_ctx among Ollama's options (num_predict, stop, temperature,
        seed…). `stop_when(text so far)`, asked every STOP_CHECK_EVERY deltas, ends the
        stream early: the Generation's done_reason is then LOOP_CUT. `allow_empty`: an empty
        answer is returned (for the caller's own checks) instead of retried as a fault."""
        streamed = False

        async def attempt() -> Generation:
            nonlocal streamed
            parts: list[str] = []
            tokens = 0
            stream = await self._client.chat(
                model=self.model,
                messages=_messages(system, prompt),
                stream=True,
                options={**(options or {}), "num_ctx": self.settings.ollama_num_ctx},
            )
            try:
                async for part in stream:
                    delta = part.message.content or ""
                    if delta:
                        tokens += 1
                        parts.append(delta)
                        streamed = True
                        await progress(delta, min(99, tokens * 100 // max(1, expected_tokens)))
                        if (
                            stop_when is not None
                            and tokens % STOP_CHECK_EVERY == 0
                            and stop_when("".join(parts))
                        ):
                            # Closing the stream (finally) ends the request: Ollama stops.
                            return Generation("".join(parts), self.model, done_reason=LOOP_CUT)
                    if part.done:
                        return _generation("".join(parts), part, self.model, allow_empty)
            finally:
                if isinstance(stream, AsyncGenerator):
                    await stream.aclose()
            raise _Transient("the Ollama stream ended before the answer was done")

        with tracing.tracer().start_as_current_span("ollama.chat") as span:
            # Sizes and counts only: the prompt and the answer are the user's.
            span.set_attribute("llm.model", self.model)
            span.set_attribute("llm.prompt_characters", len(system) + len(prompt))
            generation = await self._run(attempt, may_retry=lambda: not streamed)
            stats = generation.stats
            span.set_attribute("llm.prompt_tokens", stats.get("prompt_eval_count", 0))
            span.set_attribute("llm.output_tokens", stats.get("eval_count", 0))
            return generation

    async def structured(
        self, *, system: str, prompt: str, schema: dict[str, Any]
    ) -> dict[str, Any]:
        """A JSON object answer constrained by `schema` (Ollama's structured output)."""

        async def attempt() -> dict[str, Any] | None:
            for _ in range(2):
                response = await self._client.chat(
                    model=self.model,
                    messages=_messages(system, prompt),
                    stream=False,
                    format=schema,
                    options={"num_ctx": self.settings.ollama_num_ctx},
                )
                answer = _json_object(response.message.content or "")
                if answer is not None:
                    return answer
                logger.info("Ollama model %s answered malformed JSON", self.model)
            return None

        with tracing.tracer().start_as_current_span("ollama.structured") as span:
            span.set_attribute("llm.model", self.model)
            span.set_attribute("llm.prompt_characters", len(system) + len(prompt))
            answer = await self._run(attempt, may_retry=lambda: True)
        if answer is None:
            raise TaskFailed(
                "the model's answer was not the JSON object asked for", retryable=False
            )
        return answer

    async def _run(
        self, attempt: Callable[[], Awaitable[T]], *, may_retry: Callable[[], bool]
    ) -> T:
        """`attempt()` under the task timeout, the retry policy and the circuit breaker."""
        timeout = self.settings.task_timeout_seconds
        retries = self.settings.ollama_retries
        in_flight = trial = False
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                tries = 0
                while True:
                    tries += 1
                    trial = self.breaker.before_call()
                    in_flight = True
                    try:
                        result = await attempt()
                    except ollama.ResponseError as exc:
                        reason = _response_error_reason(exc)
                        if not _transient_status(exc.status_code):
                            in_flight = False
                            self.breaker.record_success()  # Ollama answered: it is up
                            raise TaskFailed(reason, retryable=False) from None
                    except (_Transient, *_TRANSIENT_ERRORS) as exc:
                        reason = _transient_reason(exc)
                    else:
                        in_flight = False
                        self.breaker.record_success()
                        return result
                    in_flight = False
                    self.breaker.record_failure()
                    logger.warning("Ollama attempt %d failed: %s", tries, reason)
                    # An opened circuit ends the retries too: the next ones would fail fast.
                    if tries > retries or not may_retry() or self.breaker.state != "closed":
                        attempts = "1 attempt" if tries == 1 else f"{tries} attempts"
                        raise TaskFailed(f"{reason} ({attempts})", retryable=True)
                    await asyncio.sleep(self._backoff(tries))
        except TimeoutError:
            if not deadline.expired():
                raise
            if in_flight:
                self.breaker.record_failure()
            raise TaskFailed(
                f"Ollama did not answer within {timeout:g} s", retryable=True
            ) from None
        except BaseException:
            if in_flight and trial:
                self.breaker.release_trial()
            raise

    def _backoff(self, tries: int) -> float:
        base = self.settings.ollama_retry_backoff_seconds * 2.0 ** (tries - 1)
        # Jitter spreads the retries of many workers; it is not security-relevant.
        return base * (0.5 + random.random() / 2)  # noqa: S311


def _messages(system: str, prompt: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _generation(
    content: str, done: ollama.ChatResponse, model: str, allow_empty: bool = False
) -> Generation:
    if not content.strip() and not allow_empty:
        raise _Transient("the model answered nothing")
    stats = {key: value for key in STAT_KEYS if isinstance(value := getattr(done, key), int)}
    return Generation(
        content=content,
        model=done.model or model,
        stats=stats,
        done_reason=done.done_reason or "stop",
    )


def _transient_status(status: int) -> bool:
    # -1: an error line inside a stream (a runner that died mid-answer).
    return status == -1 or status >= 500 or status in (408, 429)


def _response_error_reason(exc: ollama.ResponseError) -> str:
    detail = str(exc.error)[:200]
    if exc.status_code == 404:
        return f"Ollama model not found: {detail}"
    if exc.status_code == -1:
        return f"Ollama failed mid-answer: {detail}"
    return f"Ollama answered HTTP {exc.status_code}: {detail}"


def _transient_reason(exc: BaseException) -> str:
    if isinstance(exc, _Transient):
        return str(exc)
    if isinstance(exc, pydantic.ValidationError | json.JSONDecodeError):
        return "Ollama sent a malformed response"
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return "cannot connect to Ollama"
    return f"Ollama connection failed ({type(exc).__name__})"
