"""What one GraphQL document may ask for: depth, aliases, tokens and cost.

The token limit is Strawberry's (it refuses at parse time). Depth and aliases are counted by
one validation rule of ours: Strawberry's own rules crashed on an empty selection set (`{ }`,
allowed since graphql-spec#1227) and walked a fragment again at every spread, which a
document of doubling fragments turns into 2^n steps. The cost limit refuses an operation
before it runs (after validation, when the variables' values are known). It counts the
objects an operation can make the server build, multiplying list sizes down the tree:

- a field that returns objects costs one per object: its list size (below) times the
  number of objects it is asked on;
- scalars, enums and `__typename` inside an object cost nothing (they are read from an
  object already counted; resolvers do no I/O per field), so a client adding `__typename`
  everywhere (Apollo does) pays nothing for it; a root field costs at least 1;
- a field with a `first` or `limit` argument returns up to that many items (its value, from
  a literal, a variable or the argument's default); on a connection (an object with a
  `first`), its `edges` hold that many;
- any other list field is assumed to hold LIST_SIZE items.

So `logEntries(first: 100) { edges { node { id tags { name } } } }` costs 2,201, and
100 × 100 × 100 under three nested lists a million: refused with the default 10,000. A
query or mutation sent with `"extensions": {"cost": true}` that the limit let through
answers `"extensions": {"cost": {"requested": N, "limit": M}}`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.language import OperationType as AstOperationType
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.types.graphql import OperationType

from graph.errors import GRAPHQL_VALIDATION_FAILED

SIZE_ARGUMENTS = ("first", "limit")
LIST_SIZE = 20  # assumed length of a list field without a size argument
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 1000
MAX_COST = 10_000


@dataclass(frozen=True)
class QueryLimits:
    depth: int = MAX_DEPTH
    aliases: int = MAX_ALIASES
    tokens: int = MAX_TOKENS
    cost: int = MAX_COST

    def extensions(self) -> list[Callable[[], SchemaExtension]]:
        """Factories: Strawberry makes each extension afresh for every operation. The depth and
        alias rule is built once here: the same rule class every time keeps the validation
        cache hitting (a rule class made per operation missed it every time)."""
        rules = [shape_rule(max_depth=self.depth, max_aliases=self.aliases)]
        tokens, cost = self.tokens, self.cost
        return [
            lambda: AddValidationRules(rules),
            lambda: MaxTokensLimiter(max_token_count=tokens),
            lambda: QueryCost(max_cost=cost),
        ]


@dataclass(frozen=True)
class _Shape:
    depth: int  # fields with a selection set, nested (introspection not counted)
    aliases: int  # aliased fields, each fragment counted at every spread


class _ShapeWalk:
    """Depth and aliases of selection sets; each fragment walked once (then remembered)."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.known: dict[str, _Shape] = {}
        self.walking: set[str] = set()

    def selection_set(self, selections: SelectionSetNode | None) -> _Shape:
        depth = aliases = 0
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                if selection.name.value.startswith("__"):
                    continue  # introspection: GraphiQL's nests `ofType` deeper than any limit
                if selection.selection_set is not None:
                    inner = self.selection_set(selection.selection_set)
                    depth, aliases = max(depth, 1 + inner.depth), aliases + inner.aliases
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
        return _Shape(depth, aliases)

    def fragment(self, name: str) -> _Shape:
        shape = self.known.get(name)
        if shape is not None:
            return shape
        fragment = self.fragments.get(name)
        if fragment is None or name in self.walking:  # validation reports both
            return _Shape(0, 0)
        self.walking.add(name)
        shape = self.known[name] = self.selection_set(fragment.selection_set)
        self.walking.discard(name)
        return shape


def shape_rule(*, max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations nested deeper than `max_depth` fields with a
    selection set, and documents with more than `max_aliases` aliases (Strawberry's wording)."""

    class ShapeLimits(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            walk = _ShapeWalk(
                {
                    definition.name.value: definition
                    for definition in document.definitions
                    if isinstance(definition, FragmentDefinitionNode)
                }
            )
            aliases = 0
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                shape = walk.selection_set(definition.selection_set)
                aliases += shape.aliases
                if shape.depth > max_depth:
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            definition,
                        )
                    )
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}")
                )

    return ShapeLimits


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The operation's cost (module docstring); 0 when there is no such operation."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = {
        AstOperationType.QUERY: schema.query_type,
        AstOperationType.MUTATION: schema.mutation_type,
        AstOperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    defaults = {
        definition.variable.name.value: definition.default_value
        for definition in operation.variable_definitions or ()
    }
    counter = _Cost(schema, fragments, dict(variables or {}), defaults)
    return counter.selection_set(root, operation.selection_set, page=None, root=True)


class _Cost:
    """Costs of selection sets for one object of their type. A cost is proportional to the
    number of objects a selection set is asked on, so a fragment's is worked out once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        defaults: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.known: dict[tuple[str, int | None, bool], int] = {}
        self.walking: set[str] = set()

    def selection_set(
        self,
        parent: GraphQLNamedType,
        selections: SelectionSetNode,
        *,
        page: int | None,  # the `first` of the connection these selections are on
        root: bool,
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, page=page, root=root)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(
                    target or parent, selection.selection_set, page=page, root=root
                )
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(parent, selection.name.value, page=page, root=root)
        return total

    def fragment(self, parent: GraphQLNamedType, name: str, *, page: int | None, root: bool) -> int:
        key = (name, page, root)
        cost = self.known.get(key)
        if cost is not None:
            return cost
        fragment = self.fragments.get(name)
        if fragment is None or name in self.walking:  # validation reports both
            return 0
        target = self.schema.get_type(fragment.type_condition.name.value) or parent
        self.walking.add(name)
        cost = self.known[key] = self.selection_set(
            target, fragment.selection_set, page=page, root=root
        )
        self.walking.discard(name)
        return cost

    def field(
        self, parent: GraphQLNamedType, node: FieldNode, *, page: int | None, root: bool
    ) -> int:
        definition = _field(parent, node.name.value)
        if definition is None or node.selection_set is None:
            # A scalar (or introspection): free inside an object already counted.
            return int(root and not node.name.value.startswith("__"))
        children = get_named_type(definition.type)
        size = self._argument_size(node, definition)
        if not _is_list(definition.type):
            # One object; a connection's size is its edges'.
            inner = self.selection_set(children, node.selection_set, page=size, root=False)
            return 1 + inner
        if size is None:
            size = page if node.name.value == "edges" and page is not None else LIST_SIZE
        inner = self.selection_set(children, node.selection_set, page=None, root=False)
        return size * (1 + inner)

    def _argument_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        for argument in SIZE_ARGUMENTS:
            if argument in definition.args:
                value = self._argument(node, argument, definition.args[argument].default_value)
                return max(1, value) if isinstance(value, int) else LIST_SIZE
        return None

    def _argument(self, node: FieldNode, name: str, default: Any) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                variable = value.name.value
                if variable in self.variables:
                    return self.variables[variable]
                literal = self.defaults.get(variable)
                return int(literal.value) if isinstance(literal, IntValueNode) else None
            return None
        return default


def _field(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class QueryCost(SchemaExtension):
    """Refuses an operation whose cost is over `max_cost` before it runs, and answers the
    cost of one it let through in `extensions.cost` when asked (so clients can budget)."""

    def __init__(self, *, max_cost: int = MAX_COST) -> None:
        self.max_cost = max_cost
        self.cost: int | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if (
            document is not None
            and not execution.result
            and execution.operation_type != OperationType.SUBSCRIPTION  # one object an event
        ):
            cost = operation_cost(
                execution.schema._schema,  # graphql-core's schema
                document,
                execution.operation_name,
                execution.variables,
            )
            if cost > self.max_cost:
                error = GraphQLError(
                    f"The operation may cost {cost}, over the limit of {self.max_cost}: ask "
                    "for smaller pages (first/limit) or fewer nested lists",
                    extensions={
                        "code": GRAPHQL_VALIDATION_FAILED,
                        "cost": cost,
                        "maxCost": self.max_cost,
                    },
                )
                execution.result = ExecutionResult(data=None, errors=[error])
            else:
                self.cost = cost
        yield

    def get_results(self) -> dict[str, Any]:
        # On request only: an `extensions` entry in every answer would change every body
        # that clients (and tests) compare whole.
        asked = (self.execution_context.operation_extensions or {}).get("cost")
        if self.cost is None or asked is not True:
            return {}
        return {"cost": {"requested": self.cost, "limit": self.max_cost}}
