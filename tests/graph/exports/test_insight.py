"""GET /export/insights/{id}: one of the user's insights as Markdown and as PDF."""

from __future__ import annotations

import io
import uuid

import asyncpg
import httpx
from pypdf import PdfReader

from tests.factories import Api
from tests.graph.exports.support import add_insight, error_of, get

REPORT = """# Weekly Report: 2026-11-02 to 2026-11-08

You logged **12.5 h** in **9 entries** on **4 days**.

## Where the time went
- Code: 7.5 h (60%)
- Review: 3 h (24%)

## Accomplishments

Shipped the ledger migration — naïve retries removed, café-grade résumé.

---

*The figures above were computed by EngLog from your log.*
"""


def path(insight_id: str) -> str:
    return f"/export/insights/{insight_id}"


async def test_an_insight_downloads_as_its_markdown(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account = await api.sign_up()
    insight_id = await add_insight(database_url, account, REPORT)

    response = await get(client, path(insight_id), account, format="markdown")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="englog-insight-{insight_id}.md"'
    )
    assert response.text == REPORT


async def test_an_insight_downloads_as_a_pdf_with_its_headings_and_figures(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account = await api.sign_up()
    insight_id = await add_insight(database_url, account, REPORT)

    response = await get(client, path(insight_id), account, format="pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="englog-insight-{insight_id}.pdf"'
    )
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.metadata is not None
    assert reader.metadata.title == "Weekly Report: 2026-11-02 to 2026-11-08"
    text = " ".join(page.extract_text() for page in reader.pages)
    words = " ".join(text.split())
    for expected in (
        "Weekly Report: 2026-11-02 to 2026-11-08",
        "Where the time went",
        "Accomplishments",
        "12.5 h",
        "9 entries",
        "Code: 7.5 h (60%)",
        "Review: 3 h (24%)",
        "naïve retries removed, café-grade résumé",
    ):
        assert expected in words, (expected, words)
    assert "**" not in words
    assert "##" not in words


async def test_the_users_edit_is_what_downloads(
    api: Api, client: httpx.AsyncClient, database_url: str, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    insight_id = await add_insight(database_url, account, REPORT)
    await pg.execute(
        "UPDATE insight SET edited_content = 'My own words' WHERE id = $1", uuid.UUID(insight_id)
    )

    response = await get(client, path(insight_id), account, format="markdown")

    assert response.text == "# Weekly Report: 2026-11-02 to 2026-11-08\n\nMy own words\n"


async def test_another_users_insight_is_not_found_and_nothing_said_of_it(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account, other = await api.sign_up(), await api.sign_up()
    theirs = await add_insight(database_url, other, REPORT)

    for insight_id in (theirs, str(uuid.uuid4()), "not-an-id"):
        for fmt in ("markdown", "pdf"):
            response = await get(client, path(insight_id), account, format=fmt)
            assert response.status_code == 404
            assert error_of(response) == {
                "message": "Insight not found",
                "extensions": {"code": "NOT_FOUND"},
            }


async def test_an_unfinished_insight_has_no_report_yet(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account = await api.sign_up()
    insight_id = await add_insight(database_url, account, None, status="RUNNING")

    response = await get(client, path(insight_id), account, format="pdf")

    assert response.status_code == 409
    assert error_of(response) == {
        "message": "The insight is RUNNING: only a COMPLETED one has a report",
        "extensions": {"code": "CONFLICT"},
    }


async def test_a_bad_format_or_token_is_refused(
    api: Api, client: httpx.AsyncClient, database_url: str
) -> None:
    account = await api.sign_up()
    insight_id = await add_insight(database_url, account, REPORT)

    docx = await get(client, path(insight_id), account, format="docx")
    anonymous = await get(client, path(insight_id), None, format="pdf")

    assert docx.status_code == 400
    assert error_of(docx)["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"format": "must be one of markdown, pdf"},
    }
    assert anonymous.status_code == 401
    assert error_of(anonymous)["extensions"] == {"code": "UNAUTHENTICATED"}
