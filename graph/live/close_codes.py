"""The close codes a websocket on /graphql ends with; the close reason says which case.

4403 for every "this connection is not allowed" (bad, expired or revoked token, too many
connections): the graphql-ws reference client retries it with back-off, calling
`connectionParams` again, so a client that refreshed its token reconnects by itself. The
protocol's 4401 (subscribe before connection_ack) and 4429 (too many connection_init) are
fatal for that client: never used for these.
"""

FORBIDDEN = 4403
INTERNAL_SERVER_ERROR = 4500
# RFC 6455 "going away": a graceful shutdown (SIGTERM) closes every socket with it once the
# process accepts no new connection (graph/app.py `going_away`), where uvicorn alone would
# drop them with 1012; clients reconnect, to another process, and resume with `since`.
GOING_AWAY = 1001
GOING_AWAY_REASON = "Server shutting down"
# RFC 6455 "try again later": the session could not be checked (neither Redis nor PostgreSQL
# answered). graphql-ws clients retry it, where 4500 is fatal for them.
TRY_AGAIN_LATER = 1013
