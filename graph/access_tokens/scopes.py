"""What a personal access token may not do, refused before an operation executes.

- A token without the `write` scope runs no mutation at all.
- No token runs the account-security mutations, whatever its scopes: a leaked token must
  not mint more tokens (which would outlive its own revocation), revoke its owner's other
  tokens, change the password, end the owner's sessions or delete the account. Those are
  for a signed-in session (a password sign-in), which a script's token is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.context import Context
from graph.errors import FORBIDDEN, AppError

SESSION_ONLY = frozenset(
    {
        "createAccessToken",
        "revokeAccessToken",
        "changePassword",
        "deleteAccount",
        "endSession",
        "endOtherSessions",
    }
)


class Forbidden(AppError):
    code = FORBIDDEN


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    """The names of the operation's root fields, through fragments (aliases do not hide
    them)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return set()
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    names: set[str] = set()
    seen: set[str] = set()
    pending: list[SelectionNode] = list(operation.selection_set.selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
    return names


def refusal(claims_read_only: bool, fields: set[str]) -> Forbidden | None:
    if claims_read_only:
        return Forbidden("This access token is read-only: it cannot run mutations")
    denied = sorted(fields & SESSION_ONLY)
    if denied:
        return Forbidden(f"{denied[0]} needs a signed-in session, not a personal access token")
    return None


class TokenScopes(SchemaExtension):
    """Refuses, with FORBIDDEN, a mutation a personal access token may not run."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        claims = context.personal_token() if isinstance(context, Context) else None
        if (
            claims is not None
            and execution.result is None
            and execution.graphql_document is not None
            and execution.operation_type == OperationType.MUTATION
        ):
            fields = root_fields(execution.graphql_document, execution.operation_name)
            exc = refusal(claims.read_only, fields)
            if exc is not None:
                error = GraphQLError(str(exc), original_error=exc, extensions=exc.extensions)
                execution.result = ExecutionResult(data=None, errors=[error])
        yield
