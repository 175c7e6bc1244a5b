"""The GraphQL documents the benchmark sends: the measured page and the seeding mutations."""

from __future__ import annotations

PAGE_SIZE = 50  # keep in step with `first:` below and the baseline's ?first=

PAGE_QUERY = """
query BenchPage {
  logEntries(first: 50) {
    edges {
      cursor
      node {
        id title type startTime endTime durationMinutes valueRating impactLevel
        project { id name }
        tags { id name }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

SIGN_UP = """
mutation BenchSignUp($input: SignUpInput!) {
  signUp(input: $input) { accessToken user { id } }
}
"""

CREATE_PROJECT = """
mutation BenchProject($input: CreateProjectInput!) {
  createProject(input: $input) { id name }
}
"""

CREATE_TAG = """
mutation BenchTag($input: CreateTagInput!) {
  createTag(input: $input) { id name }
}
"""

CREATE_ENTRIES = """
mutation BenchEntries($inputs: [CreateLogEntryInput!]!) {
  createLogEntries(inputs: $inputs) { id }
}
"""
