"""The generate_insight task: EngLog's figures and the model's checked narrative, or the
built-in report.

The report's figures are rendered from the metrics (worker/insights/figures.py) and streamed
first; the model is asked only for the narrative sections. Its answer is read into those
sections and checked (worker/insights/answers.py: loops, the token cap, empty, sections,
language, walls of numbers; worker/insights/numbers.py: every number against the metrics).
A refused answer is asked for once more, with other sampling and a firmer prompt; a second
refusal falls back to the built-in report (model "builtin"), the model's failures kept in
the checks (the insight's error). A COMPLETED report is never made of the refused text.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from protos.vocabulary import BUILTIN_MODEL, GENERATE_INSIGHT
from worker.builtin import FALLBACK_NOTICE, NOTICE, builtin_report
from worker.insights.answers import Answer, first_problem, looping, split_sections
from worker.insights.figures import assemble, figure_lines, heading
from worker.insights.numbers import Evidence, check_numbers
from worker.jobs import Generation, InsightChecks, InsightJob, Progress, Result
from worker.llm import OllamaLLM
from worker.prompt import build_insight_prompt, expected_tokens, kind_spec
from worker.tasks.kinds import Context, WorkerKind

logger = logging.getLogger(__name__)

# The first answer's sampling, then the retry's: cooler, and firmer against repeating.
SAMPLING: tuple[Mapping[str, Any], ...] = (
    {"temperature": 0.4, "top_p": 0.9, "repeat_penalty": 1.1},
    {"temperature": 0.1, "top_p": 0.8, "repeat_penalty": 1.3},
)
# End-of-turn markers of common chat templates, and a run of blank lines (a model that has
# finished and goes on emitting nothing): both end the answer at Ollama.
STOP = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "\n\n\n\n\n")


@dataclass(frozen=True)
class Report:
    """An insight's text and who wrote it, with what was checked of it."""

    content: str
    model: str
    stats: dict[str, int] = field(default_factory=dict)
    checks: InsightChecks = field(default_factory=InsightChecks)


def options(job: InsightJob, attempt: int) -> dict[str, Any]:
    """Ollama's options of an attempt: the kind's budget, the stops, its sampling and a seed
    of the insight's (the same insight asks the same way, so its answers can be reproduced)."""
    seed = int(hashlib.sha256(job.insight_id.encode()).hexdigest()[:7], 16) + attempt
    return {
        "num_predict": kind_spec(job.kind).num_predict,
        "stop": list(STOP),
        "seed": seed,
        **SAMPLING[attempt],
    }


def read_answer(job: InsightJob, generation: Generation, evidence: Evidence) -> Answer:
    requested = kind_spec(job.kind).sections
    sections = split_sections(generation.content, requested)
    return Answer(
        text=generation.content,
        sections=sections,
        requested=requested,
        done_reason=generation.done_reason,
        numbers=check_numbers(sections, evidence),
    )


async def run_insight(job: InsightJob, *, llm: OllamaLLM | None, progress: Progress) -> Report:
    """Write the insight with the model, or with the built-in summariser when there is no
    Ollama (`llm` None, or not answering when the task starts). Either way the text goes
    through `progress` as it is produced; a failure of Ollama mid-task raises TaskFailed
    rather than falling back, so a user never gets a builtin report by accident of timing
    (a bad answer is not a failure of Ollama: that one falls back)."""
    if llm is None or not await llm.available():
        logger.info("insight %s: built-in summariser (no Ollama)", job.insight_id)
        return await _run_builtin(job, progress, notice=NOTICE, checks=InsightChecks())
    evidence = Evidence.of(job)
    await progress("\n".join([heading(job), "", *figure_lines(job), "", ""]), 0)
    failures: list[str] = []
    generation: Generation | None = None
    for attempt in range(len(SAMPLING)):
        system, prompt = build_insight_prompt(job, firmer=failures[-1] if failures else None)
        generation = await llm.stream_chat(
            system=system,
            prompt=prompt,
            progress=progress,
            expected_tokens=expected_tokens(job.kind),
            options=options(job, attempt),
            stop_when=looping,
            allow_empty=True,
        )
        answer = read_answer(job, generation, evidence)
        problem = first_problem(answer)
        logger.info(
            "insight %s: %s wrote %d tokens (%s); %s",
            job.insight_id,
            generation.model,
            generation.stats.get("eval_count", 0),
            generation.done_reason,
            problem or "accepted",
        )
        if problem is None:
            verdict = answer.numbers
            content = assemble(
                job, verdict.sections, model=generation.model, removed=len(verdict.removed)
            )
            checks = InsightChecks(
                supported_numbers=verdict.supported,
                unsupported_numbers=verdict.unsupported,
                retried=attempt > 0,
                removed=verdict.removed,
            )
            return Report(content, generation.model, generation.stats, checks)
        failures.append(problem)
        if attempt + 1 < len(SAMPLING):
            await progress(f"\n\n*EngLog set this answer aside ({problem}); asking again.*\n\n", 50)
    assert generation is not None
    failure = "; ".join(
        f"{'first' if index == 0 else 'retried'} answer: {problem}"
        for index, problem in enumerate(failures)
    )
    await progress(f"\n\n*EngLog set this answer aside too ({failures[-1]}).*\n\n", 90)
    checks = InsightChecks(retried=True, fallback=True, failure=f"{generation.model}: {failure}")
    report = await _run_builtin(job, progress, notice=FALLBACK_NOTICE, checks=checks)
    # The model's statistics stay: its tokens were spent, and its speed measured.
    return Report(report.content, report.model, generation.stats, checks)


async def _run_builtin(
    job: InsightJob, progress: Progress, *, notice: str, checks: InsightChecks
) -> Report:
    content = builtin_report(job, notice=notice)
    # A section at a time, so a dashboard shows it arriving the same way as a model's text.
    chunks = [c for c in re.split(r"(?<=\n\n)", content) if c]
    for index, chunk in enumerate(chunks, start=1):
        await progress(chunk, min(99, index * 100 // len(chunks)))
    return Report(content=content, model=BUILTIN_MODEL, checks=checks)


async def run(job: InsightJob, context: Context) -> Result:
    report = await run_insight(job, llm=context.tools.llm, progress=context.progress)
    return Result(
        content=report.content,
        model=report.model,
        stats=report.stats,
        insight_checks=report.checks,
    )


KIND = WorkerKind(name=GENERATE_INSIGHT, job_field="insight", job=InsightJob, run=run)
