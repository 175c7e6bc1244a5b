"""One parsed document for every operation that sends the same text.

Each subscription (and each HTTP operation) otherwise parses its text again: ~50 AST objects
per live subscription that the garbage collector walks for as long as the socket lives
(graph/live/gc_policy.py), and parse time on every request. Strawberry's ParserCache parses inside
its on_parse hook, where a syntax error skips every extension's on_operation (ErrorCodes would
never code it); here a document that does not parse is left to Strawberry, which parses it again
and answers the syntax error as usual.

graphql-core never changes a document it executes, so one can serve many operations at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

CACHE_SIZE = 512
# Texts longer than this are parsed every time: the cache's memory stays bounded (~CACHE_SIZE
# × this) whatever clients send, and real clients' documents are far smaller.
MAX_CACHED_CHARS = 16 * 1024


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


class DocumentCache(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query and len(query) <= MAX_CACHED_CHARS:
            try:
                # parse_options (max_tokens) are set in on_operation, before parsing.
                options = tuple(sorted(context.parse_options.items()))
                context.graphql_document = _parse(query, options)
            except GraphQLError:
                pass  # Strawberry parses it again and reports the error its usual way
        yield
