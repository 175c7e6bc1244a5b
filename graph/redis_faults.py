"""What a Redis call raises when Redis is away, slow or was reset: one tuple for every caller.

Redis here is a cache and a message bus, never the system of record, so each caller catches
exactly these and falls back (the denylist to PostgreSQL, rate limits to RATE_LIMIT_FAIL, the
hub to reconnecting), and lets everything else through as the bug it is:

- `RedisError`: redis-py's own, its ConnectionError and TimeoutError (ENGLOG_REDIS_TIMEOUT_SECONDS)
  included;
- `OSError`: a refused or reset socket that redis-py did not wrap;
- `RuntimeError`: under uvloop, a pooled connection whose socket was reset raises
  "unable to perform operation on <TCPTransport closed=True …>" on its next use, and
  redis-py's pub/sub raises "pubsub connection not set" after a subscribe that could not
  connect;
- `TimeoutError`: an `asyncio.timeout` of the caller's own around the call.
"""

from __future__ import annotations

from redis.exceptions import RedisError

REDIS_FAULTS: tuple[type[Exception], ...] = (RedisError, OSError, RuntimeError, TimeoutError)
