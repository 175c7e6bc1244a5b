"""Live delivery: subscriptions on websockets and HTTP streams, from a committed change to
every socket that asked for it, doing the work once per event, not once per subscriber.

    mutation / worker report
        │ graph/transaction.py: the change and its event row in ONE transaction
        ▼
    PostgreSQL event log (db/queries/event.py) ── the record: replay and catch-up read it
        │ after commit only: {"type":"event", topic, id} on the user's channel
        ▼
    Redis pub/sub ─────────── news only ("something happened"), between API processes
        │ one Redis subscription a channel a process
        ▼
    hub.py      EventHub: bounded queue per subscriber; RESYNC to all after a reconnect
        │ wake-up
        ▼
    feeds.py    Feed per (user, topic): re-reads the log after its last id, builds the
        │       items once (one query a batch), the same objects to every member
        ▼
    shared.py   one execution and one JSON serialisation per distinct operation and event
        │
        ▼
    fanout.py   an idle subscription's frame written by its feed straight into uvicorn's
        │       websockets-sansio connection; otherwise queued for the subscription's task
        ▼
    sockets     ws.py (graphql-transport-ws), http_streams.py (graphql-sse, multipart)

- Ordering and no gaps: Redis messages carry no data that matters, so out-of-order or lost
  publishes cannot reorder or drop a user's events; a feed always reads PostgreSQL in id
  order. A subscription joins its feed and reads the feed's position L in the same step,
  replays (since, L] from PostgreSQL itself, and takes only ids above L from the feed.
- Resync: when the hub's Redis connection comes back, every subscriber gets RESYNC and each
  feed re-reads what it missed. A client that reconnects (a restart, 1001, 1013) or whose
  subscription ended with SLOW_CONSUMER resumes with `since` = the last cursor it saw.
- Insight progress does not go through the log: model tokens are appended to a Redis text
  with its offset (hub.py `append_progress`); a late subscriber reads the text so far and
  skips the deltas it already has.
- Bounded everywhere: a subscriber or feed member too far behind is dropped with
  SLOW_CONSUMER (resume with `since`), never allowed to slow the others.
- Around it: slots.py counts each user's connections in Redis for all API processes and
  re-checks sessions in batches; close_codes.py says how sockets end; gc_policy.py keeps
  CPython's full collections from stopping 10,000 sockets at once.
"""
