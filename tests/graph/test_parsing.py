"""One parsed document a text, shared by operations, without weakening the token limit or the
coding of syntax errors."""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

from graph.parsing import MAX_CACHED_CHARS, DocumentCache
from graph.query_limits import QueryLimits
from graph.schema import build_schema

seen: list[DocumentNode | None] = []


class Capture(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        seen.append(self.execution_context.graphql_document)
        yield


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "you") -> str:
        return f"hello {name}"


def capturing_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=[DocumentCache, Capture])


async def test_operations_with_the_same_text_share_one_parsed_document() -> None:
    schema = capturing_schema()
    seen.clear()

    first = await schema.execute('{ hello(name: "a") }')
    second = await schema.execute('{ hello(name: "a") }')
    other = await schema.execute('{ hello(name: "b") }')

    assert (first.data, second.data, other.data) == (
        {"hello": "hello a"},
        {"hello": "hello a"},
        {"hello": "hello b"},
    )
    assert seen[0] is seen[1]
    assert seen[2] is not seen[0]


async def test_a_text_over_the_size_bound_is_parsed_every_time() -> None:
    schema = capturing_schema()
    seen.clear()
    text = '{ hello(name: "' + "x" * MAX_CACHED_CHARS + '") }'

    await schema.execute(text)
    await schema.execute(text)

    assert seen[0] is not seen[1]
    assert seen[0] is not None


async def test_a_cached_text_is_still_held_to_a_lower_token_limit() -> None:
    text = "{ " + "__typename " * 12 + "}"  # 14 tokens
    generous = build_schema(limits=QueryLimits(tokens=1000))
    strict = build_schema(limits=QueryLimits(tokens=10))

    allowed = await generous.execute(text)
    refused = await strict.execute(text)

    assert (allowed.data, allowed.errors) == ({"__typename": "Query"}, None)
    assert refused.errors is not None
    assert [error.message for error in refused.errors] == [
        "Syntax Error: Document contains more than 10 tokens. Parsing aborted."
    ]
    assert refused.errors[0].extensions == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_a_syntax_error_still_gets_its_code() -> None:
    result = await build_schema().execute("{ __typename")

    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "GRAPHQL_PARSE_FAILED"}
