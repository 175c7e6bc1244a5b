"""The log-entry tests' documents and a direct view of the rows behind the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from tests.factories import Account

ENTRY_FIELDS = """
  id title description type startTime endTime durationMinutes valueRating impactLevel
  createdAt updatedAt project { id name } tags { id name usageCount }
"""


CREATE_ENTRY = f"""
mutation Create($input: CreateLogEntryInput!) {{
  createLogEntry(input: $input) {{ {ENTRY_FIELDS} }}
}}
"""


CREATE_ENTRIES = f"""
mutation CreateMany($inputs: [CreateLogEntryInput!]!) {{
  createLogEntries(inputs: $inputs) {{ {ENTRY_FIELDS} }}
}}
"""


GET_ENTRY = f"""
query Get($id: ID!) {{ logEntry(id: $id) {{ {ENTRY_FIELDS} }} }}
"""


TAGS = "{ tags { name usageCount } }"


@dataclass
class Database:
    """Reads rows behind the API's back, to check what was (not) written."""

    connection: asyncpg.Connection

    async def entry_count(self, account: Account) -> int:
        query = "SELECT count(*) FROM log_entry WHERE user_id = $1"
        count: int = await self.connection.fetchval(query, uuid.UUID(account.user_id))
        return count

    async def tag_count(self, account: Account) -> int:
        query = "SELECT count(*) FROM tag WHERE user_id = $1"
        count: int = await self.connection.fetchval(query, uuid.UUID(account.user_id))
        return count

    async def link_count(self, account: Account) -> int:
        query = (
            "SELECT count(*) FROM log_entry_tag JOIN log_entry ON log_entry.id = entry_id "
            "WHERE log_entry.user_id = $1"
        )
        count: int = await self.connection.fetchval(query, uuid.UUID(account.user_id))
        return count

    async def entry_row(self, entry_id: str) -> dict[str, Any] | None:
        row = await self.connection.fetchrow(
            "SELECT * FROM log_entry WHERE id = $1", uuid.UUID(entry_id)
        )
        return dict(row) if row is not None else None

    async def tag_ids(self, account: Account) -> dict[str, str]:
        rows = await self.connection.fetch(
            "SELECT id, name FROM tag WHERE user_id = $1", uuid.UUID(account.user_id)
        )
        return {row["name"]: str(row["id"]) for row in rows}
