"""Shared execution: one execution and one serialisation per distinct subscription operation
and event, and the `next` frame a websocket subscription then writes itself (overview:
graph/live/__init__.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from graphql import ExecutionResult, FieldNode, Node, VariableNode, Visitor, visit
from graphql.execution import Executor
from graphql.language import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.live.fanout import FastSocket

_RENDERS = "_englog_renders"
Key = tuple[str, str | None, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Rendered:
    """A shared execution's result, and its data as JSON when it has no errors."""

    result: ExecutionResult
    json: str | None

    @classmethod
    def of(cls, result: ExecutionResult) -> Rendered:
        data = None if result.errors else json.dumps(result.data, separators=(",", ":"))
        return cls(result, data)


Shared = Rendered | asyncio.Future[Rendered]

# The subscription executor and the websocket delivery of the operation running in this
# task (each graphql-transport-ws operation runs in a task of its own).
_executor: ContextVar[SharingExecutor | None] = ContextVar("englog_executor", default=None)
_delivery: ContextVar[Delivery | None] = ContextVar("englog_delivery", default=None)


def share(item: object) -> None:
    """Marks an item handed to several subscriptions: their executions may be shared."""
    vars(item)[_RENDERS] = {}


def _renders(item: object) -> dict[Key, Shared] | None:
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
    """Strawberry's executor, sharing subscription events' executions.

    The feeds hand every subscription of a user and topic the SAME item object for an
    event, marked with `share()`. Its execution is keyed on the operation (its text, its
    name, and the values of the variables its selection set can see) and run once: every
    other subscription with the same key gets that result, its `data` serialised once and
    kept with the item, which lives as long as some subscription has not taken it. Queries
    and mutations run exactly as with Strawberry's own.

    Why this is safe: a feed is per user, so every subscription sharing an item is the same
    user's, and the items' resolvers depend on nothing but the user and the item (they read
    through the user-scoped loaders). Variables used only in the subscription field's own
    arguments (`since`, `id`) shape the source stream, not the execution, and are left out
    of the key: a resumed subscription shares again once its replay is over.
    """

    share_key: Key | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.operation.operation == OperationType.SUBSCRIPTION:
            self.share_key = self._key()
            _executor.set(self)  # for the subscription's resolver, in this same task

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

    def shared(self, item: object) -> Shared | None:
        """The shared result (or its pending execution) of a shared item; None otherwise."""
        renders = _renders(item) if self.share_key is not None else None
        if renders is None:
            return None
        assert self.share_key is not None
        shared = renders.get(self.share_key)
        if shared is None:
            shared = renders[self.share_key] = self._execute_once(item)
        return shared

    def _execute_once(self, item: object) -> Shared:
        result = super().build_per_event_executor(item).execute_operation(False)
        if isinstance(result, ExecutionResult):  # resolved synchronously: done already
            return Rendered.of(result)
        if not self.is_awaitable(result):  # @defer/@stream: subscriptions reject them
            raise TypeError(f"cannot share a {type(result).__name__}")
        return asyncio.ensure_future(_finish(cast(Awaitable[ExecutionResult], result)))

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        """graphql-core's per-event step: the shared result for a shared item."""
        shared = self.shared(payload)
        if shared is None:
            return super().build_per_event_executor(payload)
        return cast(Executor[Any], _Executed(shared))


class _Executed:
    """Stands in for a per-event executor: its result is shared."""

    __slots__ = ("shared",)

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = self.shared
        if isinstance(shared, Rendered):
            return shared.result
        if shared.done():
            return shared.result().result
        return _result(shared)


async def _finish(pending: Awaitable[ExecutionResult]) -> Rendered:
    return Rendered.of(await pending)


async def _wait(shared: asyncio.Future[Rendered]) -> Rendered:
    # shield: one subscriber leaving mid-execution does not cancel it for the others.
    return await asyncio.shield(shared)


async def _result(shared: asyncio.Future[Rendered]) -> ExecutionResult:
    return (await _wait(shared)).result


# --- direct delivery on websockets --------------------------------------------------------


@dataclass
class Delivery:
    """Where a websocket operation's `next` frames go (set by graph/live/ws.py)."""

    operation_id: str
    # Writes one text frame; False when the socket is gone.
    send_text: Callable[[str], Awaitable[bool]]
    # The socket's frames written by its feed without a task switch (graph/live/fanout.py), and
    # what the handler is told when one was (send_text's bookkeeping). None: not possible.
    fast: FastSocket | None = None
    wrote: Callable[[float], None] | None = None  # given time.monotonic() of the writes
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        self.prefix = f'{{"id":{json.dumps(self.operation_id)},"type":"next","payload":{{"data":'

    def activate(self) -> None:
        _delivery.set(self)


@dataclass
class Direct:
    """A live subscription writing shared results to its socket itself.

    It hands shared items not to Strawberry but writes
    `{"id":<its id>,"type":"next","payload":{"data":<shared JSON>}}` from its own task (one
    slow socket blocks nobody), or its feed writes it while the task waits with nothing
    queued (graph/live/fanout.py): Strawberry's per-event machinery (extension hooks, result
    handling, JSON encoding) costs nothing per socket. A result with errors takes
    Strawberry's path, which formats and codes errors; so does a resumed subscription's
    replay (its items are its own).
    """

    executor: SharingExecutor
    delivery: Delivery

    async def frame(self, item: object) -> str | None:
        """This socket's `next` frame for a shared item; None when Strawberry must deliver it
        (the item is not shared, or its result has errors to format)."""
        shared = self.executor.shared(item)
        if shared is None:
            return None
        if isinstance(shared, Rendered):
            rendered = shared
        else:
            rendered = shared.result() if shared.done() else await _wait(shared)
        return self._frame(rendered)

    def frame_now(self, item: object) -> str | None:
        """The frame, when it needs no waiting: the item's shared execution is done and has
        no errors. None otherwise (the subscription's task then delivers it)."""
        shared = self.executor.shared(item)
        if shared is None:
            return None
        if not isinstance(shared, Rendered):
            if not shared.done() or shared.cancelled() or shared.exception() is not None:
                return None
            shared = shared.result()
        return self._frame(shared)

    async def render(self, item: object) -> None:
        """Runs (or waits for) the item's shared execution, for frame_now to find it done."""
        shared = self.executor.shared(item)
        if shared is not None and not isinstance(shared, Rendered):
            await _wait(shared)

    def _frame(self, rendered: Rendered) -> str | None:
        fresh = getattr(self.executor.context_value, "fresh_loaders", None)
        if fresh is not None:
            fresh()  # what this event's execution cached is not served to the next one
        if rendered.json is None:
            return None
        return f"{self.delivery.prefix}{rendered.json}}}}}"


def direct() -> Direct | None:
    """The running subscription's direct delivery: on a websocket, with a shared key."""
    executor, delivery = _executor.get(), _delivery.get()
    if executor is None or delivery is None or executor.share_key is None:
        return None
    return Direct(executor, delivery)
