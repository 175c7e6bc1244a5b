"""Expected failures as GraphQL errors with extensions.code; everything else masked and logged."""

from __future__ import annotations

import logging
import re
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from graphql import GraphQLError
from sqlalchemy import exc as sa_exc
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

logger = logging.getLogger("englog.graph")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
LIMIT_EXCEEDED = "LIMIT_EXCEEDED"  # a cap, e.g. ENGLOG_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION
TIMEOUT = "TIMEOUT"  # the operation ran over ENGLOG_REQUEST_TIMEOUT_SECONDS and was cancelled
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
# A subscription that fell too far behind and was closed; the client resumes with `since`.
SLOW_CONSUMER = "SLOW_CONSUMER"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


class AppError(Exception):
    """An expected failure. graphql-core copies `extensions` onto the GraphQL error."""

    code = INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(AppError):
    code = UNAUTHENTICATED

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message)


class NotFound(AppError):
    code = NOT_FOUND

    def __init__(self, what: str, fields: Mapping[str, str] | None = None) -> None:
        if fields:
            super().__init__(f"{what} not found", fields=dict(fields))
        else:
            super().__init__(f"{what} not found")


class Conflict(AppError):
    code = CONFLICT

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        if fields:
            super().__init__(message, fields=dict(fields))
        else:
            super().__init__(message)


class BadUserInput(AppError):
    code = BAD_USER_INPUT

    def __init__(self, fields: Mapping[str, str], message: str | None = None) -> None:
        fields = dict(fields)
        super().__init__(message or _summary(fields), fields=fields)


class ServiceUnavailable(AppError):
    code = SERVICE_UNAVAILABLE


def _summary(fields: Mapping[str, str]) -> str:
    first, text = next(iter(fields.items()))
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    return f"Invalid input: {first}: {text}{more}"


class FieldErrors:
    """Collects field → message pairs; raise() when any were added."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(self.prefix + field, message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise BadUserInput(self.fields)


def unique_violation(exc: Exception, index: str) -> bool:
    """Whether an IntegrityError came from this unique index (a race the pre-checks missed)."""
    return index in str(getattr(exc, "orig", exc))


@contextmanager
def unique_conflict(*, index: str, message: str, fields: Mapping[str, str]) -> Iterator[None]:
    """Turns a violation of this unique index inside the block into CONFLICT with these field
    errors. The index decides, in the same statement: a look-up first would race."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        if unique_violation(exc, index):
            raise Conflict(message, fields) from None
        raise


def name_taken(*, index: str, what: str) -> AbstractContextManager[None]:
    """A user's names of `what` (projects, tags) are unique by `index`: a taken one is
    CONFLICT on `name`."""
    return unique_conflict(
        index=index,
        message=f"A {what} with this name already exists",
        fields={"name": "is already used"},
    )


_VARIABLE_ERROR = re.compile(
    r"^Variable '\$(?P<name>\w+)' has invalid value(?: at (?P<path>[^:]+))?:"
)
_REQUIRED_FIELD = re.compile(r"include required field '(?P<field>\w+)'")


def _variable_field(message: str) -> str | None:
    """The input field a variable-coercion message is about, as `title`, `tags.0` or `t.0`."""
    match = _VARIABLE_ERROR.match(message)
    if match is None:
        return None
    path = match.group("path")
    if path:
        dotted = re.sub(r"\[(\d+)\]", r".\1", path)
        # Inside an input object the field path is enough; a bare list index keeps the name.
        return dotted[1:] if path.startswith(".") else f"{match.group('name')}{dotted}"
    required = _REQUIRED_FIELD.search(message)
    return required.group("field") if required else match.group("name")


def _classify(error: GraphQLError) -> dict[str, Any]:
    """extensions for an error graphql-core raised before execution started."""
    return classify_message(error.message)


def classify_message(message: str) -> dict[str, Any]:
    """extensions for the message of an error raised before execution started."""
    if message == "Subscription limit reached":  # Strawberry's, on a websocket
        return {"code": LIMIT_EXCEEDED}
    if message.startswith("Syntax Error"):
        return {"code": GRAPHQL_PARSE_FAILED}
    field = _variable_field(message)
    if field is not None:
        return {"code": BAD_USER_INPUT, "fields": {field: message}}
    return {"code": GRAPHQL_VALIDATION_FAILED}


# SQLSTATEs of a server that is away or going: connection exceptions (class 08), an
# administrator's or a crash's shutdown, "the database system is starting up" (57P0x), and
# "too many connections". asyncpg reports them as plain errors, which SQLAlchemy wraps in a
# generic DBAPIError, not an OperationalError.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (SQLAlchemy's wrapper, its DBAPI error or asyncpg's)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str):
            return state
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None


def is_unavailable(error: BaseException) -> bool:
    """Whether an error means "PostgreSQL (or the pool) cannot be reached now", not a bug."""
    if isinstance(error, (sa_exc.TimeoutError, sa_exc.OperationalError, ConnectionError)):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    state = _sqlstate(error)
    if state is not None and state.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    # A refused, reset or timed-out connect, or a name that does not resolve.
    return isinstance(error, (TimeoutError, socket.gaierror))


# What Strawberry re-raises out of an operation for the HTTP view to answer (400 or 405).
_PASSED_THROUGH = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class ErrorCodes(SchemaExtension):
    """Gives every error a code and masks unexpected ones (logging them with a reference id)."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except _PASSED_THROUGH:
            raise
        except Exception as exc:
            # Raised outside any resolver (a validation rule's or an extension's crash):
            # Strawberry would answer str(exc) with no code and nothing logged. Raised as a
            # GraphQLError, it is answered as it is.
            error = (
                exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            )
            raise self._process(error) from exc
        # Strawberry hands the same errors over twice (pre_execution_errors is set to the
        # result's): each is processed once, so an unexpected one has one log line and one
        # reference.
        processed: dict[int, GraphQLError] = {}

        def process(error: GraphQLError) -> GraphQLError:
            if id(error) not in processed:
                processed[id(error)] = self._process(error)
            return processed[id(error)]

        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [process(error) for error in errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [process(e) for e in pre]

    @staticmethod
    def _process(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, AppError):
            return error
        if original is None or (
            # graphql-core's own errors (variable coercion wraps one in another).
            isinstance(original, GraphQLError) and not error.path
        ):
            if not (error.extensions and "code" in error.extensions):
                error.extensions = {**(error.extensions or {}), **_classify(error)}
            return error
        if is_unavailable(original):
            logger.warning("a dependency is unavailable at %s: %r", error.path, original)
            return GraphQLError(
                "The service is temporarily unavailable; try again shortly",
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": SERVICE_UNAVAILABLE},
            )
        reference = uuid.uuid4().hex
        logger.error("unexpected error %s in %s", reference, error.path, exc_info=original)
        return GraphQLError(
            "Internal server error",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": INTERNAL_SERVER_ERROR, "reference": reference},
        )
