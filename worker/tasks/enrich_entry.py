"""The enrich_entry task: tags and skills suggested for a new log entry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from protos.vocabulary import BUILTIN_MODEL, ENRICH_ENTRY
from worker.jobs import EnrichEntryJob, Result, TaskFailed
from worker.llm import OllamaLLM
from worker.prompt import SUGGESTION_SCHEMA, build_enrich_prompt
from worker.tasks.kinds import Context, WorkerKind

MAX_SUGGESTIONS = 5
MAX_NAME_CHARS = 50  # a tag name's limit in the API


@dataclass(frozen=True)
class Suggestion:
    tags: tuple[str, ...]
    skills: tuple[str, ...]
    model: str


async def run_enrich_entry(job: EnrichEntryJob, *, llm: OllamaLLM | None) -> Suggestion:
    """The model's suggestions (structured JSON), or without a model (`llm` None, or Ollama
    not answering when the task starts) the user's existing tags that the title or
    description mention. A malformed answer raises TaskFailed."""
    if llm is None or not await llm.available():
        return keyword_suggestion(job)
    system, prompt = build_enrich_prompt(job)
    answer = await llm.structured(system=system, prompt=prompt, schema=SUGGESTION_SCHEMA)
    tags, skills = answer.get("tags"), answer.get("skills")
    if not isinstance(tags, list) or not isinstance(skills, list):
        raise TaskFailed("the model's answer had no lists of tags and skills", retryable=False)
    return Suggestion(
        tags=normalise(tags, existing=job.existing_tags), skills=normalise(skills), model=llm.model
    )


def keyword_suggestion(job: EnrichEntryJob) -> Suggestion:
    """Existing tags named in the entry's text ("code review" matches the tag code-review)."""
    text = f"{job.title}\n{job.description or ''}"
    found: list[tuple[int, str]] = []
    for tag in job.existing_tags:
        words = re.findall(r"[^\s_-]+", tag)
        if not words:
            continue
        pattern = r"(?<!\w)" + r"[\s_-]+".join(map(re.escape, words)) + r"(?!\w)"
        if match := re.search(pattern, text, flags=re.IGNORECASE):
            found.append((match.start(), tag))
    found.sort(key=lambda item: item[0])
    return Suggestion(tags=normalise(tag for _, tag in found), skills=(), model=BUILTIN_MODEL)


def normalise(items: Iterable[object], *, existing: Iterable[str] = ()) -> tuple[str, ...]:
    """Stripped, at most 50 characters, no case-insensitive duplicates, at most 5; a name that
    matches an existing tag takes that tag's spelling."""
    spelling = {tag.casefold(): tag for tag in existing}
    seen: set[str] = set()
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        name = " ".join(item.split())[:MAX_NAME_CHARS].strip()
        key = name.casefold()
        if not name or key in seen:
            continue
        seen.add(key)
        names.append(spelling.get(key, name))
        if len(names) == MAX_SUGGESTIONS:
            break
    return tuple(names)


async def run(job: EnrichEntryJob, context: Context) -> Result:
    suggestion = await run_enrich_entry(job, llm=context.tools.llm)
    return Result(
        model=suggestion.model, suggested_tags=suggestion.tags, suggested_skills=suggestion.skills
    )


# job_field is the Task's oneof field (graph/entries/task.py fills it), not the kind's name.
KIND = WorkerKind(name=ENRICH_ENTRY, job_field="enrich_entry", job=EnrichEntryJob, run=run)
