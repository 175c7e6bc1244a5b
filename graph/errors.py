"""Expected failures as GraphQL errors with extensions.code; everything else masked and logged."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

logger = logging.getLogger("englog.graph")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
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


_VARIABLE_PATH = re.compile(r"at '([^']+)'")
_VARIABLE_NAME = re.compile(r"^Variable '\$(\w+)'")


def _classify(error: GraphQLError) -> dict[str, Any]:
    """extensions for an error graphql-core raised before execution started."""
    message = error.message
    if message.startswith("Syntax Error"):
        return {"code": GRAPHQL_PARSE_FAILED}
    if message.startswith("Variable '$"):
        # Variable coercion: a wrong type, a missing field, an unknown enum value.
        path = _VARIABLE_PATH.search(message)
        name = _VARIABLE_NAME.search(message)
        field = path.group(1) if path else (name.group(1) if name else "variables")
        parts = field.split(".")
        if len(parts) > 1 and name and parts[0] == name.group(1):
            parts = parts[1:]  # "input.title" → "title": the field inside the input object
        return {"code": BAD_USER_INPUT, "fields": {".".join(parts): message}}
    return {"code": GRAPHQL_VALIDATION_FAILED}


class ErrorCodes(SchemaExtension):
    """Gives every error a code and masks unexpected ones (logging them with a reference id)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._process(error) for error in errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [self._process(e) for e in pre]

    @staticmethod
    def _process(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, AppError):
            return error
        if original is None:
            if error.extensions and "code" in error.extensions:
                return error
            error.extensions = {**(error.extensions or {}), **_classify(error)}
            return error
        if isinstance(original, GraphQLError) and original.original_error is None:
            # A GraphQLError raised on purpose (e.g. by Strawberry's own validation).
            error.extensions = {**(error.extensions or {}), "code": GRAPHQL_VALIDATION_FAILED}
            return error
        reference = uuid.uuid4().hex
        logger.error(
            "unexpected error %s in %s", reference, error.path, exc_info=original
        )
        return GraphQLError(
            "Internal server error",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": INTERNAL_SERVER_ERROR, "reference": reference},
        )
