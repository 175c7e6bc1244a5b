"""The generate_insight task: the model's text streamed as it is written, or the built-in report."""

from __future__ import annotations

import logging
import re

from protos.vocabulary import BUILTIN_MODEL, GENERATE_INSIGHT
from worker.builtin import builtin_report
from worker.jobs import Generation, InsightJob, Progress, Result
from worker.llm import OllamaLLM
from worker.prompt import build_insight_prompt, expected_tokens
from worker.tasks.kinds import Context, WorkerKind

logger = logging.getLogger(__name__)


async def run_insight(job: InsightJob, *, llm: OllamaLLM | None, progress: Progress) -> Generation:
    """Write the insight with the model, or with the built-in summariser when there is no
    Ollama (`llm` None, or not answering when the task starts). Either way the text goes
    through `progress` as it is produced; a failure of the model mid-task raises TaskFailed
    rather than falling back, so a user never gets a builtin report by accident of timing."""
    if llm is None or not await llm.available():
        logger.info("insight %s: built-in summariser (no Ollama)", job.insight_id)
        return await _run_builtin(job, progress)
    system, prompt = build_insight_prompt(job)
    generation = await llm.stream_chat(
        system=system, prompt=prompt, progress=progress, expected_tokens=expected_tokens(job.kind)
    )
    logger.info(
        "insight %s: %s wrote %d tokens",
        job.insight_id,
        generation.model,
        generation.stats.get("eval_count", 0),
    )
    return generation


async def _run_builtin(job: InsightJob, progress: Progress) -> Generation:
    content = builtin_report(job)
    # A section at a time, so a dashboard shows it arriving the same way as a model's text.
    chunks = [c for c in re.split(r"(?<=\n\n)", content) if c]
    for index, chunk in enumerate(chunks, start=1):
        await progress(chunk, min(99, index * 100 // len(chunks)))
    return Generation(content=content, model=BUILTIN_MODEL)


async def run(job: InsightJob, context: Context) -> Result:
    generation = await run_insight(job, llm=context.tools.llm, progress=context.progress)
    return Result(content=generation.content, model=generation.model, stats=generation.stats)


KIND = WorkerKind(name=GENERATE_INSIGHT, job_field="insight", job=InsightJob, run=run)
