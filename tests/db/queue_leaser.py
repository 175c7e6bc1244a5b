"""A leasing process for the multi-process queue test.

`python -m tests.db.queue_leaser URL OWNER`: prints `ready`, waits for a line on stdin (so
that both processes start leasing together), leases and completes tasks a few at a time until
the queue is empty, then prints the ids it leased as a JSON list.
"""

from __future__ import annotations

import asyncio
import json
import sys

from db.engine import create_engine, create_session_factory
from db.queue import complete, lease


async def lease_until_empty(url: str, owner: str) -> list[str]:
    engine = create_engine(url, pool_size=1)
    sessions = create_session_factory(engine)
    leased: list[str] = []
    try:
        while True:
            async with sessions.begin() as session:
                tasks = await lease(session, owner=owner, limit=2, lease_seconds=60)
            if not tasks:
                return leased
            async with sessions.begin() as session:
                for task in tasks:
                    done = await complete(
                        session, task_id=task.id, lease_token=task.lease_token, owner=owner
                    )
                    if not done:
                        raise RuntimeError(f"lost the lease of {task.id}")
            leased.extend(str(task.id) for task in tasks)
    finally:
        await engine.dispose()


def main() -> None:
    url, owner = sys.argv[1:3]
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(asyncio.run(lease_until_empty(url, owner))), flush=True)


if __name__ == "__main__":
    main()
