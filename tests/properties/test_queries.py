"""Every argument of every query, fed generated values over HTTP (out-of-range instants, NUL
and oversized strings, huge lists, bogus ids and cursors, wrong JSON types): data or coded
GraphQL errors, never INTERNAL_SERVER_ERROR nor a 5xx. The documents are built from the
exported SDL, so every argument is sent with its declared type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.properties.harness import READS, World, coded, document, for_all, variables
from tests.properties.strategies import QUERIES, resolve


async def refs_of(world_: World, kind: str) -> dict[str, Any]:
    """What the Refs of a read stand for: the objects of `kind`, and a real cursor."""
    entries = await world_.ids("entry")
    refs: dict[str, Any] = entries if kind == "entry" else await world_.ids(kind)
    page = await world_.api.data(
        "{ logEntries(first: 1) { edges { cursor } } }", token=world_.me.access_token
    )
    refs["cursor"] = page["logEntries"]["edges"][0]["cursor"]
    return refs


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_every_query_answers_data_or_coded_errors_whatever_its_arguments(
    client: httpx.AsyncClient, world: World, name: str
) -> None:
    read = QUERIES[name]
    query = document("query", name, read.selection)
    refs = await refs_of(world, read.kind)
    headers = {"Authorization": f"Bearer {world.me.access_token}"}

    async def check(values: dict[str, Any]) -> None:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": resolve(values, refs)},
            headers=headers,
        )
        assert response.status_code < 500, response.text[:500]
        body = response.json()
        coded(body.get("errors") or [])
        if not body.get("errors"):
            assert response.status_code == 200
            assert set(body["data"]) == {name}

    await for_all(variables("query", name, read), check, READS)
