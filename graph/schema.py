"""Composes the domains' Query and Mutation classes into one schema; nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.execution import Executor
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from graph.access_tokens.mutations import AccessTokenMutation
from graph.access_tokens.queries import AccessTokenQuery
from graph.access_tokens.scopes import TokenScopes
from graph.auth.mutations import AuthMutation
from graph.auth.queries import AuthQuery
from graph.entries.mutations import EntryMutation
from graph.entries.queries import EntryQuery
from graph.entries.subscriptions import EntrySubscription
from graph.errors import ErrorCodes
from graph.exports.feed import CalendarFeedMutation, CalendarFeedQuery
from graph.insights.mutations import InsightMutation
from graph.insights.queries import InsightQuery
from graph.insights.subscriptions import InsightSubscription
from graph.limits import OperationRateLimit
from graph.live.shared import SharingExecutor
from graph.notifications.mutations import NotificationMutation
from graph.notifications.subscriptions import NotificationSubscription
from graph.parsing import DocumentCache
from graph.productivity.queries import MetricsQuery
from graph.projects.mutations import ProjectMutation
from graph.projects.queries import ProjectQuery
from graph.prometheus import OperationMetrics
from graph.query_limits import QueryLimits
from graph.tags.mutations import TagMutation
from graph.tags.queries import TagQuery
from graph.timer.mutations import TimerMutation
from graph.timer.queries import TimerQuery
from graph.timer.subscriptions import TimerSubscription
from graph.tracing import GraphQLTracing


@strawberry.type(description="Read the signed-in user's data.")
class Query(
    AuthQuery,
    ProjectQuery,
    TagQuery,
    EntryQuery,
    InsightQuery,
    MetricsQuery,
    TimerQuery,
    AccessTokenQuery,
    CalendarFeedQuery,
):
    pass


@strawberry.type(description="Change the signed-in user's data (and sign up or in).")
class Mutation(
    AuthMutation,
    ProjectMutation,
    TagMutation,
    EntryMutation,
    InsightMutation,
    NotificationMutation,
    TimerMutation,
    AccessTokenMutation,
    CalendarFeedMutation,
):
    pass


@strawberry.type(
    description="Live, resumable streams of the signed-in user's changes (websockets)."
)
class Subscription(
    InsightSubscription, EntrySubscription, NotificationSubscription, TimerSubscription
):
    pass


VALIDATION_CACHE_SIZE = 512
# Strawberry's own rules, which its validation adds to the operation's (schema.py there).
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


@lru_cache(maxsize=VALIDATION_CACHE_SIZE)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(
        schema, document, (*rules, *_STRAWBERRY_RULES), hide_suggestions=hide_suggestions
    )


class Validation(SchemaExtension):
    """Strawberry's ValidationCache, and graphql-core's switch for "Did you mean …?".

    A document already validated (compared by value, so a client's repeated query hits) is
    not validated again: it was ~2.5 ms of every requestInsight. Without suggestions, no
    error names an argument, type, enum value, input field or field the client did not
    write: together they would rebuild the schema that introspection being off hides.
    """

    def __init__(self, *, suggestions: bool) -> None:
        super().__init__()
        self.hide_suggestions = not suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema,
            context.graphql_document,
            tuple(context.validation_rules),
            self.hide_suggestions,
        )
        yield


class QuietExecutor(SharingExecutor):
    """The executor without suggestions in the errors of variables' values (enum values and
    input fields), which graphql-core coerces when it builds the executor, after validation."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes logs what is unexpected; expected errors are answers, not log noise.
        return None


def build_schema(
    *,
    introspection: bool = True,
    limits: QueryLimits | None = None,
    suggestions: bool = True,
    tracing: bool = False,
) -> strawberry.Schema:
    # DocumentCache, not ParserCache: see graph/parsing.py.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        OperationMetrics,  # first in, last out: it sees the errors ErrorCodes has coded
        ErrorCodes,
        lambda: Validation(suggestions=suggestions),
        *(limits or QueryLimits()).extensions(),
        DocumentCache,
        TokenScopes,  # a personal access token's limits, before the operation is counted
        OperationRateLimit,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    if tracing:  # spans for the operation and every resolver: only when they go somewhere
        extensions.insert(0, GraphQLTracing)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        # "Did you mean …?" names what a client did not ask about: off in production
        # (fields here, everything else in Validation and QuietExecutor).
        config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=not suggestions),
        # Subscription events shared by many sockets are executed once (graph/live/shared.py).
        execution_context_class=SharingExecutor if suggestions else QuietExecutor,
    )


def export_sdl() -> str:
    return build_schema().as_str().rstrip() + "\n"
