"""E-mails the API asks a worker to send (`send_email` tasks): a finished insight, a reminder.

The API writes the whole message (recipient, subject, plain text and HTML) into the task, so
the worker learns nothing else about the user. A report is Markdown written by a model:
it is rendered with raw HTML off (markdown-it escapes it) and unsafe link schemes refused,
so a model's answer cannot put markup or scripts into the e-mail.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache

from markdown_it import MarkdownIt
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Insight, User
from db.queries import user as users
from db.queries.schedule import Preferences
from db.queue import enqueue
from protos.vocabulary import BUILTIN_MODEL, SEND_EMAIL

KIND_NAMES = {
    "DAILY_SUMMARY": "daily summary",
    "WEEKLY_REPORT": "weekly report",
    "SPRINT_ANALYSIS": "sprint analysis",
    "MONTHLY_INSIGHTS": "monthly insights",
    "QUARTERLY_REVIEW": "quarterly review",
    "ANNUAL_ASSESSMENT": "annual assessment",
    "PERFORMANCE_REVIEW": "performance review draft",
}
# More attempts than other tasks: a mail server's refusals for now (4xx) can last an hour.
EMAIL_ATTEMPTS = 8
WHY = (
    "You get this e-mail because e-mail notifications are on in your EngLog preferences "
    "(updatePreferences, email: false turns them off)."
)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str

    def payload(self) -> dict[str, str]:
        """The `send_email` task's payload: everything the worker gets."""
        return {"to": self.to, "subject": self.subject, "text": self.text, "html": self.html}


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(text: str) -> str:
    return str(_markdown().render(text))


def format_period(start: date, end: date) -> str:
    """'6 December 2026', '23–29 March 2026', '30 March – 5 April 2026', or across years."""
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


def _footer(*lines: str) -> tuple[str, str]:
    """The signature block after the message: as text, and as HTML."""
    text = "-- \n" + "".join(f"{line}\n" for line in lines)
    page = (
        '<hr><p style="color: #666; font-size: smaller">'
        + "<br>".join(html.escape(line) for line in lines)
        + "</p>\n"
    )
    return text, page


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family: sans-serif; line-height: 1.5; max-width: 42em">\n'
        f"{body}</body></html>\n"
    )


def insight_email(*, user: User, insight: Insight) -> Email:
    kind = KIND_NAMES.get(insight.kind, insight.kind.lower().replace("_", " "))
    period = format_period(insight.period_start, insight.period_end)
    if insight.model == BUILTIN_MODEL:
        origin = "Written by EngLog's built-in summariser from your metrics (no language model)."
    else:
        origin = f"Written by the language model {insight.model} on your EngLog server."
    content = (insight.content or "").strip()
    greeting = f"Hi {user.first_name},"
    subject = f"Your {kind} for {period}"
    lead = f"{subject} is ready."
    footer_text, footer_html = _footer(origin, WHY)
    text = f"{greeting}\n\n{lead}\n\n{content}\n\n{footer_text}"
    body = (
        f"<p>{html.escape(greeting)}</p>\n<p>{html.escape(lead)}</p>\n"
        f"{render_markdown(content)}{footer_html}"
    )
    return Email(to=user.email, subject=subject, text=text, html=_page(subject, body))


def reminder_text(day: date) -> tuple[str, str]:
    """A logging reminder's title and body."""
    return (
        "Nothing logged today yet",
        f"You have not logged any work for {day:%A}, {day.day} {day:%B}. "
        "A minute now saves guessing later in the week.",
    )


def reminder_email(*, to: str, first_name: str, day: date) -> Email:
    title, body = reminder_text(day)
    greeting = f"Hi {first_name},"
    footer_text, footer_html = _footer(WHY)
    text = f"{greeting}\n\n{body}\n\n{footer_text}"
    page = f"<p>{html.escape(greeting)}</p>\n<p>{html.escape(body)}</p>\n{footer_html}"
    return Email(to=to, subject=title, text=text, html=_page(title, page))


async def send(
    session: AsyncSession, *, email: Email, user_id: uuid.UUID, idempotency_key: str
) -> uuid.UUID:
    """Queues the e-mail in the caller's transaction; the same key queues it once."""
    return await enqueue(
        session,
        kind=SEND_EMAIL,
        payload=email.payload(),
        user_id=user_id,
        idempotency_key=idempotency_key,
        max_attempts=EMAIL_ATTEMPTS,
    )


async def queue_insight_email(session: AsyncSession, *, insight: Insight) -> uuid.UUID | None:
    """After an insight completed (same transaction): its e-mail, if the user opted in."""
    user = await users.get_user(session, user_id=insight.user_id)
    if user is None or not Preferences.from_json(user.preferences).email:
        return None
    return await send(
        session,
        email=insight_email(user=user, insight=insight),
        user_id=user.id,
        idempotency_key=f"email:insight:{insight.id}",  # an insight completes once
    )
