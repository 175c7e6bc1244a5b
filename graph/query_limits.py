"""What one GraphQL document may ask for: depth, aliases, tokens and cost.

Depth, aliases and tokens are Strawberry's own extensions (they refuse at parse or
validation time). The cost limit is ours: it counts the objects an operation can make the
server build, multiplying list sizes down the tree, and refuses the operation before it
runs (after validation, when the variables' values are known):

- a field with a `first` or `limit` argument returns up to that many items (its value, from
  a literal, a variable or the argument's default);
- `edges` of a connection is as long as the connection's `first` (counted there);
- any other list field is assumed to hold LIST_SIZE items;
- every field instance costs 1.

So `logEntries(first: 100) { edges { node { tags { name } } } }` costs about 2,500, and
100 × 100 × 100 under three nested lists a million: refused with the default 10,000.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
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
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.language import OperationType as AstOperationType
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.query_depth_limiter import IgnoreContext
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
        alias rules are built once here: the same rule classes every time keep the
        validation cache hitting (a rule class made per operation missed it every time)."""
        depth = QueryDepthLimiter(max_depth=self.depth, should_ignore=_introspection)
        aliases = MaxAliasesLimiter(max_alias_count=self.aliases)
        rules = [*depth.validation_rules, *aliases.validation_rules]
        tokens, cost = self.tokens, self.cost
        return [
            lambda: AddValidationRules(rules),
            lambda: MaxTokensLimiter(max_token_count=tokens),
            lambda: QueryCost(max_cost=cost),
        ]


def _introspection(ignored: IgnoreContext) -> bool:
    return ignored.field_name.startswith("__")


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
    return counter.selection_set(root, operation.selection_set, 1, frozenset())


class _Cost:
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

    def selection_set(
        self,
        parent: GraphQLNamedType,
        selections: SelectionSetNode,
        instances: int,
        spread: frozenset[str],
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, instances, spread)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(
                    target or parent, selection.selection_set, instances, spread
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:  # validation reports both
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_set(
                    target or parent, fragment.selection_set, instances, spread | {name}
                )
        return total

    def field(
        self, parent: GraphQLNamedType, node: FieldNode, instances: int, spread: frozenset[str]
    ) -> int:
        definition = _field(parent, node.name.value)
        if definition is None or node.selection_set is None:
            return instances
        size = self._size(node, definition)
        children = get_named_type(definition.type)
        return instances + self.selection_set(
            children, node.selection_set, instances * size, spread
        )

    def _size(self, node: FieldNode, definition: GraphQLField) -> int:
        for argument in SIZE_ARGUMENTS:
            if argument in definition.args:
                value = self._argument(node, argument, definition.args[argument].default_value)
                return max(1, value) if isinstance(value, int) else LIST_SIZE
        if not _is_list(definition.type):
            return 1
        return 1 if node.name.value == "edges" else LIST_SIZE

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
    """Refuses an operation whose cost is over `max_cost` before it runs."""

    def __init__(self, *, max_cost: int = MAX_COST) -> None:
        self.max_cost = max_cost

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
        yield
