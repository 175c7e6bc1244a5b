"""Every mutation has its property test, and every argument of every query and subscription
its strategy: one added later without them fails here."""

from __future__ import annotations

import graphql

from tests.properties.harness import SCHEMA
from tests.properties.strategies import NO_ARGUMENTS, QUERIES, SUBSCRIPTIONS

# Every mutation has its property test in this package.
COVERED = {
    "signUp",
    "logIn",
    "refreshToken",
    "logOut",
    "changePassword",
    "deleteAccount",
    "createProject",
    "updateProject",
    "deleteProject",
    "createTag",
    "updateTag",
    "deleteTag",
    "createLogEntry",
    "createLogEntries",
    "updateLogEntry",
    "deleteLogEntry",
    "requestInsight",
    "retryInsight",
    "updateInsight",
    "deleteInsight",
    "updatePreferences",
    "updateProfile",
    "endSession",
    "endOtherSessions",
    "startTimer",
    "updateTimer",
    "stopTimer",
    "discardTimer",
    "createAccessToken",
    "revokeAccessToken",
    "enableCalendarFeed",
    "disableCalendarFeed",
}


def test_every_mutation_of_the_schema_has_a_property_test() -> None:
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    assert set(mutation.fields) == COVERED


def arguments_of(root: graphql.GraphQLObjectType | None) -> dict[str, set[str]]:
    assert root is not None
    return {name: set(f.args) for name, f in root.fields.items()}


def test_every_query_argument_of_the_schema_has_a_strategy() -> None:
    expected = {name: set(read.arguments) for name, read in QUERIES.items()}
    expected.update({name: set() for name in NO_ARGUMENTS})
    assert arguments_of(SCHEMA.query_type) == expected


def test_every_subscription_argument_of_the_schema_has_a_strategy() -> None:
    expected = {name: set(read.arguments) for name, read in SUBSCRIPTIONS.items()}
    assert arguments_of(SCHEMA.subscription_type) == expected
