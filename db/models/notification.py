from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk


class Notification(SQLModel, table=True):
    """Something EngLog tells a user on its own (a logging reminder), for live dashboards."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_user_id_created_at", "user_id", "created_at"),
        sa.CheckConstraint("kind IN ('LOGGING_REMINDER')", name="ck_notification_kind"),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    kind: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=timestamp())


class ScheduleRun(SQLModel, table=True):
    """A scheduled job done for one user and period: the scheduler's idempotency record.

    Claimed (inserted) in the transaction that does the job, so a job is done at most once
    per user and period across restarts and scheduler processes, whatever the clock says.
    """

    __tablename__ = "schedule_run"
    __table_args__ = (
        sa.PrimaryKeyConstraint("user_id", "job", "period"),
        sa.Index("ix_schedule_run_ran_at", "ran_at"),
        sa.CheckConstraint(
            "job IN ('WEEKLY_REPORT', 'DAILY_SUMMARY', 'LOGGING_REMINDER')",
            name="ck_schedule_run_job",
        ),
    )

    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    job: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # The period the job is for: a week's Monday, or a day, in the user's time zone.
    period: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    # The instant the job was due (the schedule's slot), and when it ran.
    due_at: datetime = Field(sa_column=timestamp(default_now=False))
    ran_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    # What it did: REQUESTED (an insight), NOTIFIED (a reminder) or SKIPPED (nothing needed).
    outcome: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
