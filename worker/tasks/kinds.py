"""What a task kind is to the worker: its name, the field of the Task's `job` it reads, the
job that field becomes, and the code that runs it.

Each kind declares itself as `KIND` in its module (worker/tasks/<kind>.py) and is listed
once, in worker/tasks/registry.py; worker/runner.py dispatches on the list, and the worker
asks for the kinds it can run (`runs_with`). No kind sees protobuf: the runner turns the job
message into the job dataclass field by field (worker/jobs.py `wire` where names differ)
and the Result back into a Success.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from worker.jobs import Progress, Result
from worker.llm import OllamaLLM
from worker.mail import Mailer

Job = TypeVar("Job")


@dataclass(frozen=True)
class Tools:
    """What this worker runs its tasks with, from its settings (worker/client.py)."""

    llm: OllamaLLM | None  # None: the built-in fallbacks
    mailer: Mailer | None  # None: this worker sends no e-mail


@dataclass(frozen=True)
class Context:
    """What one run of a task gets besides its job."""

    tools: Tools
    task_id: str
    progress: Progress


def always(tools: Tools) -> bool:
    return True


@dataclass(frozen=True)
class WorkerKind(Generic[Job]):
    name: str  # protos/vocabulary.py: Task.kind, and what the worker asks for
    job_field: str  # the Task's `job` oneof field it reads (as graph/<domain>/task.py fills)
    job: type[Job]  # the dataclass that field's message becomes
    run: Callable[[Job, Context], Awaitable[Result]]  # TaskFailed reports a failure
    # Whether a worker with these tools runs it: one that cannot never asks for it, so its
    # tasks wait in the queue for one that can.
    runs_with: Callable[[Tools], bool] = always


AnyKind = WorkerKind[Any]
