"""From a Task message to its kind's task code, and back to a Success: with the transport
(worker/client.py), the only worker code that touches protobuf.

It knows no kind: the kind's name picks its entry in worker/tasks/registry.py, which says
which field of the Task's `job` to read and which dataclass that message becomes, field by
field (worker/jobs.py `wire` where a name or form differs).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import betterproto2

from protos.generated.englog.worker import v1 as pb
from worker.jobs import WIRE, Progress, Result, TaskFailed, Wire
from worker.llm import OllamaLLM
from worker.mail import Mailer
from worker.tasks.kinds import Context, Tools
from worker.tasks.registry import kind_named

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# (task, progress) -> the Success message; raising TaskFailed reports a failure.
Runner = Callable[[pb.Task, Progress], Awaitable[pb.Success]]

Plain = TypeVar("Plain", bound="DataclassInstance")


def from_message(message: betterproto2.Message, plain: type[Plain]) -> Plain:
    """The dataclass `plain` with the message's fields: each of its fields reads the message
    field of its name, or the one its `wire` metadata names, decoded as that says; repeated
    fields become tuples, and a message the dataclass its field's annotation names."""
    hints = typing.get_type_hints(plain)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(plain):
        source: Wire = field.metadata.get(WIRE) or Wire(field.name)
        value = getattr(message, source.name)
        values[field.name] = (
            source.decode(value) if source.decode else _plain(value, hints[field.name])
        )
    return plain(**values)


def _plain(value: Any, hint: Any) -> Any:
    if typing.get_origin(hint) is tuple:
        [item, *_] = typing.get_args(hint)
        return tuple(_plain(element, item) for element in value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and value is not None:
        return from_message(value, hint)
    if typing.get_origin(hint) is dict:
        return dict(value)
    return value


def success_of(result: Result) -> pb.Success:
    checks = result.insight_checks
    return pb.Success(
        content=result.content,
        model=result.model,
        stats=dict(result.stats),
        suggested_tags=list(result.suggested_tags),
        suggested_skills=list(result.suggested_skills),
        insight_checks=(
            pb.InsightChecks(
                supported_numbers=checks.supported_numbers,
                unsupported_numbers=checks.unsupported_numbers,
                retried=checks.retried,
                fallback=checks.fallback,
                removed=list(checks.removed),
                failure=checks.failure,
            )
            if checks is not None
            else None
        ),
    )


def build_runner(llm: OllamaLLM | None, *, mailer: Mailer | None = None) -> Runner:
    """Runs a task's job with this LLM (None: the built-in fallbacks) and this mailer (None:
    no e-mail) into a Success."""
    tools = Tools(llm=llm, mailer=mailer)

    async def run(task: pb.Task, progress: Progress) -> pb.Success:
        kind = kind_named(task.kind)
        message = getattr(task, kind.job_field) if kind is not None else None
        if kind is None or message is None or not kind.runs_with(tools):
            raise TaskFailed(f"this worker cannot run {task.kind!r}", retryable=False)
        context = Context(tools=tools, task_id=task.task_id, progress=progress)
        return success_of(await kind.run(from_message(message, kind.job), context))

    return run
