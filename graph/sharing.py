"""One execution per distinct subscription operation and event, and one serialisation.

The feeds (graph/subscriptions.py) hand every subscription of a user and topic the SAME
item object for an event, marked with `share()`. When graphql-core executes a
subscription's selection set for such an item, `SharingExecutor` keys the execution on the
operation (its text, its name, and the values of the variables the selection set can
see) and runs it once: every other subscription with the same key awaits that result.
The result's `data` is then serialised once (`payload_json`) and the websocket handler
writes the same bytes to every socket, only the operation id differing in each frame.

Why this is safe: a feed is per user, so every subscription sharing an item is the same
user's, and the items' resolvers depend on nothing but the user and the item (they read
through the user-scoped loaders). Variables used only in the subscription field's own
arguments (`since`, `id`) shape the source stream, not the execution, and are left out of
the key: a resumed subscription shares again once its replay is over.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, cast

from graphql import ExecutionResult, FieldNode, Node, VariableNode, Visitor, visit
from graphql.execution import Executor
from graphql.language import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_RENDERS = "_englog_renders"
Key = tuple[str, str | None, tuple[tuple[str, str], ...]]


def share(item: object) -> None:
    """Marks an item handed to several subscriptions: their executions may be shared."""
    vars(item)[_RENDERS] = {}


def _renders(item: object) -> dict[Key, ExecutionResult | asyncio.Future[ExecutionResult]] | None:
    namespace = getattr(item, "__dict__", None)
    return namespace.get(_RENDERS) if namespace is not None else None


class _Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.names.add(node.name.value)


def _variables_in(nodes: list[Node]) -> set[str]:
    visitor = _Variables()
    for node in nodes:
        visit(node, visitor)
    return visitor.names


class SharingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, sharing subscription events' executions (module docstring).

    Queries and mutations run exactly as with Strawberry's own.
    """

    share_key: Key | None = None

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        if self.share_key is None and self.operation.operation == OperationType.SUBSCRIPTION:
            self.share_key = self._key()
        renders = _renders(payload) if self.share_key is not None else None
        if renders is not None:
            shared = renders.get(self.share_key)  # type: ignore[arg-type]
            if isinstance(shared, ExecutionResult):
                # Executed for another socket already: no per-event executor to build.
                return cast(Executor[Any], _Executed(shared))
        return super().build_per_event_executor(payload)

    def _key(self) -> Key:
        operation = self.operation
        seen: list[Node] = [*(operation.directives or ()), *self.fragment_definitions.values()]
        for selection in operation.selection_set.selections:
            if isinstance(selection, FieldNode):
                seen += selection.directives or ()
                if selection.selection_set is not None:
                    seen.append(selection.selection_set)
            else:
                seen.append(selection)
        coerced = self.variable_values.coerced
        used = sorted(name for name in _variables_in(seen) if name in coerced)
        text = operation.loc.source.body if operation.loc is not None else repr(operation)
        name = operation.name.value if operation.name is not None else None
        return text, name, tuple((variable, repr(coerced[variable])) for variable in used)

    def execute_operation(self, serially: bool | None = None) -> Any:
        renders = _renders(self.root_value) if self.share_key is not None else None
        if renders is None:
            return super().execute_operation(serially)
        assert self.share_key is not None
        shared = renders.get(self.share_key)
        if shared is None:
            shared = renders[self.share_key] = self._execute_once(serially)
        if isinstance(shared, ExecutionResult):
            return shared
        if shared.done():
            return shared.result()
        return _wait(shared)

    def _execute_once(
        self, serially: bool | None
    ) -> ExecutionResult | asyncio.Future[ExecutionResult]:
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult):  # resolved synchronously: done already
            _remember(result.data)
            return result
        if not self.is_awaitable(result):  # @defer/@stream: subscriptions reject them
            raise TypeError(f"cannot share a {type(result).__name__}")
        return asyncio.ensure_future(_finish(cast(Awaitable[ExecutionResult], result)))


class _Executed:
    """Stands in for a per-event executor whose result is already known."""

    __slots__ = ("result",)

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self.result


async def _finish(pending: Awaitable[ExecutionResult]) -> ExecutionResult:
    result = await pending
    _remember(result.data)
    return result


async def _wait(shared: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    # shield: one subscriber leaving mid-execution does not cancel it for the others.
    return await asyncio.shield(shared)


# --- one serialisation of a shared result's data -----------------------------------------

_SERIALISED: OrderedDict[int, tuple[object, str]] = OrderedDict()
_SERIALISED_MAX = 256


def _remember(data: object) -> None:
    _SERIALISED[id(data)] = (data, json.dumps(data, separators=(",", ":")))
    if len(_SERIALISED) > _SERIALISED_MAX:
        _SERIALISED.popitem(last=False)


def shared_json(data: object) -> str | None:
    """The JSON of a shared result's `data`, serialised once for every socket; None when
    `data` is not one (keyed by identity, holding the object so an id is not reused)."""
    cached = _SERIALISED.get(id(data))
    return cached[1] if cached is not None and cached[0] is data else None
