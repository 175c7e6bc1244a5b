"""The worker's task kinds (worker/tasks/registry.py) and the runner that turns a Task
message into a kind's job and its Result into a Success (worker/runner.py)."""

from __future__ import annotations

import ast
import dataclasses
import json
import mailbox
import typing
from pathlib import Path

import betterproto2
import pytest

from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import BUILTIN_MODEL, ENRICH_ENTRY, GENERATE_INSIGHT, SEND_EMAIL
from tests.worker import JOB, METRICS, ProgressRecorder
from worker.builtin import builtin_report
from worker.jobs import WIRE, EnrichEntryJob, EntryLine, InsightJob, TaskFailed
from worker.mail import mailer_for
from worker.runner import build_runner, from_message
from worker.settings import WorkerSettings
from worker.tasks.kinds import Tools
from worker.tasks.registry import KINDS, NAMES, capabilities, kind_named
from worker.tasks.send_email import EmailJob

ROOT = Path(__file__).resolve().parents[2]

INSIGHT_MESSAGE = pb.InsightJob(
    insight_id="i1",
    kind="WEEKLY_REPORT",
    period_start="2026-11-02",
    period_end="2026-11-08",
    timezone="Europe/Berlin",
    metrics_json='{"total_minutes": 450}',
    entries=[
        pb.EntryLine(
            date="2026-11-02",
            title="Review",
            type="REVIEW",
            minutes=30,
            value_rating="HIGH",
            impact_level="TEAM",
            project="API",
            tags=["go", "ci"],
        ),
        pb.EntryLine(date="2026-11-03", title="Standup", type="MEETING", minutes=15),
    ],
    focus_areas=["delivery"],
    user_first_name="Grace",
)


def wire_names(plain: type[typing.Any]) -> dict[str, str]:
    """Each message field a dataclass reads, by the dataclass field that reads it."""
    names = {}
    for field in dataclasses.fields(plain):
        source = field.metadata.get(WIRE)
        names[source.name if source else field.name] = field.name
    return names


def task(kind: str, **job: typing.Any) -> pb.Task:
    return pb.Task(task_id="t-1", kind=kind, attempt=1, lease_token="l-1", **job)


def test_the_kinds_are_listed_once_each_under_the_shared_names() -> None:
    assert NAMES == (GENERATE_INSIGHT, ENRICH_ENTRY, SEND_EMAIL)
    assert [kind_named(name) for name in NAMES] == list(KINDS)
    assert kind_named("retired_kind") is None


def test_each_kind_reads_its_own_field_of_the_task_job_and_every_field_of_its_message() -> None:
    for kind in KINDS:
        # The Task field's annotation is `Message | None`: the message class is its first arm.
        [message_class, _] = typing.get_args(typing.get_type_hints(pb.Task)[kind.job_field])
        filled = task(kind.name, **{kind.job_field: message_class()})
        assert betterproto2.which_one_of(filled, "job")[0] == kind.job_field
        # Nothing of the message dropped, nothing read that it does not have.
        message_fields = {field.name for field in dataclasses.fields(message_class)}
        assert set(wire_names(kind.job)) == message_fields, kind.name
    assert set(wire_names(EntryLine)) == {field.name for field in dataclasses.fields(pb.EntryLine)}


def test_a_job_message_becomes_its_dataclass_field_by_field() -> None:
    assert from_message(INSIGHT_MESSAGE, InsightJob) == InsightJob(
        insight_id="i1",
        kind="WEEKLY_REPORT",
        period_start="2026-11-02",
        period_end="2026-11-08",
        timezone="Europe/Berlin",
        metrics={"total_minutes": 450},
        entries=(
            EntryLine("2026-11-02", "Review", "REVIEW", 30, "HIGH", "TEAM", "API", ("go", "ci")),
            EntryLine("2026-11-03", "Standup", "MEETING", 15, "", "", None, ()),
        ),
        focus_areas=("delivery",),
        user_first_name="Grace",
    )
    assert from_message(pb.InsightJob(insight_id="i2"), InsightJob).metrics == {}
    assert from_message(
        pb.EmailJob(to="a@example.org", subject="Hi", text_body="Hello", html_body="<p>Hello</p>"),
        EmailJob,
    ) == EmailJob(to="a@example.org", subject="Hi", text="Hello", html="<p>Hello</p>")
    assert from_message(pb.EnrichEntryJob(entry_id="e1", title="Go"), EnrichEntryJob) == (
        EnrichEntryJob(entry_id="e1", title="Go", type="", description=None, existing_tags=())
    )


async def test_an_insight_runs_into_a_success_with_its_text_streamed() -> None:
    progress = ProgressRecorder()
    message = pb.InsightJob(
        insight_id=JOB.insight_id,
        kind=JOB.kind,
        period_start=JOB.period_start,
        period_end=JOB.period_end,
        timezone=JOB.timezone,
        metrics_json=json.dumps(METRICS),
        entries=[
            pb.EntryLine(**{**dataclasses.asdict(line), "tags": list(line.tags)})
            for line in JOB.entries
        ],
    )
    success = await build_runner(None)(task(GENERATE_INSIGHT, insight=message), progress)
    assert success == pb.Success(
        content=builtin_report(JOB), model=BUILTIN_MODEL, insight_checks=pb.InsightChecks()
    )
    assert "".join(progress.deltas) == success.content


async def test_an_enrichment_runs_into_a_success_with_the_suggestions() -> None:
    job = pb.EnrichEntryJob(
        entry_id="e1", title="Code review", type="REVIEW", existing_tags=["code-review", "go"]
    )
    success = await build_runner(None)(task(ENRICH_ENTRY, enrich_entry=job), ProgressRecorder())
    assert success == pb.Success(model=BUILTIN_MODEL, suggested_tags=["code-review"])


async def test_an_email_is_sent_once_keyed_by_its_task_and_answers_an_empty_model(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mailbox"
    mailer = mailer_for(WorkerSettings(mailbox_file=str(path)))
    run = build_runner(None, mailer=mailer)
    job = pb.EmailJob(to="ada@example.org", subject="Ready", text_body="Your report\n")
    assert capabilities(Tools(llm=None, mailer=mailer)) == NAMES

    successes = [await run(task(SEND_EMAIL, email=job), ProgressRecorder()) for _ in range(2)]

    assert successes == [pb.Success(model=""), pb.Success(model="")]
    box = mailbox.mbox(path, create=False)
    try:
        first, again = box
    finally:
        box.close()
    assert (first["To"], first["Subject"]) == ("ada@example.org", "Ready")
    assert first["Message-ID"] == again["Message-ID"]  # the same task: the same message


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("an e-mail without a mailer", task(SEND_EMAIL, email=pb.EmailJob(to="a@example.org"))),
        ("a kind this worker has no code for", task("retired_kind")),
        ("a task without its kind's job", task(ENRICH_ENTRY)),
    ],
)
async def test_what_this_worker_cannot_run_fails_for_good(what: str, message: pb.Task) -> None:
    with pytest.raises(TaskFailed) as raised:
        await build_runner(None)(message, ProgressRecorder())
    assert (raised.value.reason, raised.value.retryable) == (
        f"this worker cannot run {message.kind!r}",
        False,
    ), what


def test_a_worker_without_mail_settings_asks_for_no_email() -> None:
    assert capabilities(Tools(llm=None, mailer=None)) == (GENERATE_INSIGHT, ENRICH_ENTRY)


def test_only_the_transport_and_the_runner_touch_protobuf() -> None:
    wire_modules = ("protos.generated", "protos.bridge", "betterproto2", "grpc")
    touching = set()
    for path in sorted((ROOT / "worker").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.startswith(wire_modules) for name in names):
                touching.add(path.relative_to(ROOT).as_posix())
    assert touching == {"worker/client.py", "worker/runner.py"}
