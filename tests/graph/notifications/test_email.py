"""The e-mails the API writes for the worker to send: exact texts, and safe HTML."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from db.models import Insight, User
from graph.notifications.email import format_period, insight_email, reminder_email

NOW = datetime(2026, 3, 30, 9, tzinfo=UTC)
REPORT = """# Your week

- **Shipped** cursor pagination <script>alert(1)</script>
- [a link](javascript:alert(1)) and [the PR](https://example.com/pr/1)
"""


def user() -> User:
    return User(
        id=uuid.uuid4(),
        email="ada@example.com",
        password_hash="-",
        first_name="Ada <b>",
        last_name="Lovelace",
        timezone="Europe/Berlin",
        created_at=NOW,
        updated_at=NOW,
    )


def insight(model: str, kind: str = "WEEKLY_REPORT") -> Insight:
    return Insight(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        kind=kind,
        status="COMPLETED",
        period_start=date(2026, 3, 23),
        period_end=date(2026, 3, 29),
        content=REPORT,
        model=model,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (date(2026, 12, 6), date(2026, 12, 6), "6 December 2026"),
        (date(2026, 3, 23), date(2026, 3, 29), "23–29 March 2026"),
        (date(2026, 3, 30), date(2026, 4, 5), "30 March – 5 April 2026"),
        (date(2026, 12, 28), date(2027, 1, 3), "28 December 2026 – 3 January 2027"),
    ],
)
def test_periods_are_written_the_way_people_write_them(start: date, end: date, text: str) -> None:
    assert format_period(start, end) == text


def test_a_report_email_carries_the_markdown_as_text_and_as_escaped_html() -> None:
    email = insight_email(user=user(), insight=insight("llama3.2:3b"))

    assert (email.to, email.subject) == (
        "ada@example.com",
        "Your weekly report for 23–29 March 2026",
    )
    assert email.text == (
        "Hi Ada <b>,\n\nYour weekly report for 23–29 March 2026 is ready.\n\n"
        + REPORT.strip()
        + "\n\n-- \nWritten by the language model llama3.2:3b on your EngLog server.\n"
        "You get this e-mail because e-mail notifications are on in your EngLog preferences "
        "(updatePreferences, email: false turns them off).\n"
    )
    assert "<p>Hi Ada &lt;b&gt;,</p>" in email.html
    assert "<h1>Your week</h1>" in email.html
    assert "<strong>Shipped</strong> cursor pagination &lt;script&gt;" in email.html
    assert '<a href="https://example.com/pr/1">the PR</a>' in email.html
    # Raw HTML and script links in the model's answer never become markup.
    assert "<script>" not in email.html
    assert 'href="javascript:' not in email.html
    assert email.html.startswith("<!DOCTYPE html>")
    assert "<title>Your weekly report for 23–29 March 2026</title>" in email.html


def test_a_report_of_the_builtin_summariser_says_no_language_model_wrote_it() -> None:
    email = insight_email(user=user(), insight=insight("builtin", "DAILY_SUMMARY"))

    assert email.subject == "Your daily summary for 23–29 March 2026"
    origin = "Written by EngLog's built-in summariser from your metrics (no language model)."
    assert origin in email.text
    assert origin.replace("'", "&#x27;") in email.html


def test_a_reminder_email_names_the_day() -> None:
    email = reminder_email(to="ada@example.com", first_name="Ada", day=date(2026, 3, 30))

    assert (email.to, email.subject) == ("ada@example.com", "Nothing logged today yet")
    assert email.text.startswith(
        "Hi Ada,\n\nYou have not logged any work for Monday, 30 March. "
        "A minute now saves guessing later in the week.\n\n-- \n"
    )
    assert "<p>You have not logged any work for Monday, 30 March." in email.html
