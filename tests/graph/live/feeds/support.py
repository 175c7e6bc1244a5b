"""What the feed tests share: documents, an entry written through the API, and how many
Redis subscribers a channel has."""

from __future__ import annotations

from tests.factories import Account, Api, entry_input
from tests.live import Server

ENTRY_EVENTS = """
subscription($since: String) {
  logEntryEvents(since: $since) { cursor action entryId entry { title } }
}
"""
CREATE = "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }"


async def create_entry(http: Api, account: Account, title: str) -> str:
    data = await http.data(CREATE, {"input": entry_input(title=title)}, account.access_token)
    return str(data["createLogEntry"]["id"])


async def numsub(server: Server, channel: str) -> int:
    counts = await server.state.redis.pubsub_numsub(channel)
    return int(counts[0][1])
