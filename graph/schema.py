"""Composes the domains' Query and Mutation classes into one schema; nothing else."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from englog.tracing import GraphQLTracing
from graph.auth.mutations import AuthMutation
from graph.auth.queries import AuthQuery
from graph.entries.mutations import EntryMutation
from graph.entries.queries import EntryQuery
from graph.entries.subscriptions import EntrySubscription
from graph.errors import ErrorCodes
from graph.insights.mutations import InsightMutation
from graph.insights.queries import InsightQuery
from graph.insights.subscriptions import InsightSubscription
from graph.limits import OperationRateLimit
from graph.metrics.queries import MetricsQuery
from graph.notifications.mutations import NotificationMutation
from graph.notifications.subscriptions import NotificationSubscription
from graph.parsing import DocumentCache
from graph.projects.mutations import ProjectMutation
from graph.projects.queries import ProjectQuery
from graph.prometheus import OperationMetrics
from graph.query_limits import QueryLimits
from graph.sharing import SharingExecutor
from graph.tags.mutations import TagMutation
from graph.tags.queries import TagQuery


@strawberry.type(description="Read the signed-in user's data.")
class Query(AuthQuery, ProjectQuery, TagQuery, EntryQuery, InsightQuery, MetricsQuery):
    pass


@strawberry.type(description="Change the signed-in user's data (and sign up or in).")
class Mutation(
    AuthMutation,
    ProjectMutation,
    TagMutation,
    EntryMutation,
    InsightMutation,
    NotificationMutation,
):
    pass


@strawberry.type(
    description="Live, resumable streams of the signed-in user's changes (websockets)."
)
class Subscription(InsightSubscription, EntrySubscription, NotificationSubscription):
    pass


VALIDATION_CACHE_SIZE = 512


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
    # ValidationCache: a document already validated (compared by value, so a client's
    # repeated query hits) is not validated again: it was ~2.5 ms of every requestInsight.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        OperationMetrics,  # first in, last out: it sees the errors ErrorCodes has coded
        ErrorCodes,
        lambda: ValidationCache(maxsize=VALIDATION_CACHE_SIZE),
        *(limits or QueryLimits()).extensions(),
        DocumentCache,
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
        # "Did you mean …?" names fields a client did not ask about: off in production.
        config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=not suggestions),
        # Subscription events shared by many sockets are executed once (graph/sharing.py).
        execution_context_class=SharingExecutor,
    )


def export_sdl() -> str:
    return build_schema().as_str().rstrip() + "\n"
