"""The timer tests' documents and helpers."""

from __future__ import annotations

from typing import Any

from tests.factories import Account, Api

TIMER_FIELDS = """
  id title description type valueRating impactLevel startedAt
  project { id name } tags { id name }
"""
RUNNING = f"{{ runningTimer {{ {TIMER_FIELDS} }} }}"
START = f"""
mutation Start($input: StartTimerInput!) {{ startTimer(input: $input) {{ {TIMER_FIELDS} }} }}
"""
UPDATE = f"""
mutation Update($input: UpdateTimerInput!) {{ updateTimer(input: $input) {{ {TIMER_FIELDS} }} }}
"""
STOP = """
mutation Stop($input: StopTimerInput) {
  stopTimer(input: $input) {
    id title description type startTime endTime durationMinutes valueRating impactLevel
    project { id } tags { name }
  }
}
"""
DISCARD = "mutation { discardTimer }"
CREATE_TAG = "mutation($name: String!) { createTag(input: {name: $name}) { id name } }"


async def start(api: Api, account: Account, **fields: Any) -> dict[str, Any]:
    data = await api.data(
        START, {"input": {"title": "Pairing on the parser", **fields}}, account.access_token
    )
    timer: dict[str, Any] = data["startTimer"]
    return timer


async def create_tag(api: Api, account: Account, name: str) -> dict[str, Any]:
    data = await api.data(CREATE_TAG, {"name": name}, account.access_token)
    tag: dict[str, Any] = data["createTag"]
    return tag
