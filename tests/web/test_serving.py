"""The web app served by the API process at / (graph/web.py): its files, its routes (history
routing), its content policy on every answer, gzip, and ENGLOG_WEB off."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx
import pytest

from graph.web import CSP, WEB
from tests.factories import make_settings, serve

EXPECTED_CSP = (
    "default-src 'self'; connect-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_the_policy_is_the_strict_one() -> None:
    assert CSP == EXPECTED_CSP


async def test_slash_serves_index_html_under_the_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == EXPECTED_CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.text == (WEB / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ["/today", "/signin", "/some/deep/route"])
async def test_routes_of_the_app_answer_index_html(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert (page.status_code, page.headers["content-security-policy"]) == (200, EXPECTED_CSP)
    assert page.text == (WEB / "index.html").read_text(encoding="utf-8")


async def test_assets_are_served_with_their_types_and_the_policy(client: httpx.AsyncClient) -> None:
    expected = {
        "/app.css": "text/css; charset=utf-8",
        "/js/app.js": "text/javascript; charset=utf-8",
        "/vendor/graphql-ws/client.js": "text/javascript; charset=utf-8",
        "/vendor/dompurify/purify.es.mjs": "text/javascript; charset=utf-8",
        "/favicon.svg": "image/svg+xml",
    }
    answers = {path: await client.get(path) for path in expected}
    assert {path: a.headers["content-type"] for path, a in answers.items()} == expected
    assert {a.headers["content-security-policy"] for a in answers.values()} == {EXPECTED_CSP}
    assert (WEB / "js" / "app.js").read_bytes() == answers["/js/app.js"].content


@pytest.mark.parametrize(
    "path", ["/js/missing.js", "/vendor/manifest.jsonx", "/.hidden", "/%2e%2e/pyproject.toml"]
)
async def test_a_missing_file_is_404_not_the_app(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert (answer.status_code, answer.text) == (404, "Not Found")
    assert answer.headers["content-security-policy"] == EXPECTED_CSP


async def test_the_api_routes_still_win_over_the_app(client: httpx.AsyncClient) -> None:
    assert (await client.get("/live")).text == "ok"
    graphql = await client.post("/graphql", json={"query": "{ __typename }"})
    assert graphql.json() == {"data": {"__typename": "Query"}}


async def test_only_get_and_head(client: httpx.AsyncClient) -> None:
    head = await client.head("/js/app.js")
    post = await client.post("/today", content=b"x")
    assert (head.status_code, head.content) == (200, b"")
    assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD")


async def test_text_assets_are_gzipped_and_revalidated(client: httpx.AsyncClient) -> None:
    raw = (WEB / "vendor" / "chart.js" / "chart.js").read_bytes()
    headers = {"Accept-Encoding": "gzip"}
    async with client.stream("GET", "/vendor/chart.js/chart.js", headers=headers) as answer:
        sent = b"".join([chunk async for chunk in answer.aiter_raw()])
        encoding = answer.headers["content-encoding"]
    assert encoding == "gzip"
    assert gzip.decompress(sent) == raw
    assert len(sent) < len(raw) / 3
    etag = (await client.get("/js/app.js")).headers["etag"]
    again = await client.get("/js/app.js", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["cache-control"]) == (
        304,
        b"",
        "no-cache",
    )


async def test_graphql_answers_are_not_compressed_by_the_web_mount(
    client: httpx.AsyncClient,
) -> None:
    query = "{ __schema { types { name } } }"
    answer = await client.post(
        "/graphql", json={"query": query}, headers={"Accept-Encoding": "gzip"}
    )
    assert "content-encoding" not in answer.headers


async def test_with_englog_web_off_slash_is_404(database_url: str, redis_url: str) -> None:
    async with serve(make_settings(database_url, redis_url, web=False)) as client:
        answers = [await client.get(path) for path in ("/", "/today", "/js/app.js")]
        live = await client.get("/live")
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert live.text == "ok"


def html_files() -> list[Path]:
    return sorted(path for path in WEB.rglob("*.html") if "vendor" not in path.parts)


def test_no_html_file_has_inline_script_style_or_handlers() -> None:
    assert html_files() == [WEB / "index.html"]
    for path in html_files():
        text = path.read_text(encoding="utf-8")
        assert INLINE_SCRIPT.findall(text) == [], path
        assert re.findall(r"<style|\sstyle\s*=", text, re.IGNORECASE) == [], path
        assert INLINE_HANDLER.findall(text) == [], path
        assert re.findall(r'(?:src|href)="(?:https?:)?//', text) == [], path  # nothing elsewhere


def test_the_apps_own_scripts_never_use_inner_html_or_eval() -> None:
    """Every text from the API goes into the page as a text node (js/dom.js)."""
    offenders = {
        str(path.relative_to(WEB)): hits
        for path in sorted((WEB / "js").rglob("*.js"))
        if (
            hits := re.findall(
                r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function",
                path.read_text(encoding="utf-8"),
            )
        )
    }
    assert offenders == {}
