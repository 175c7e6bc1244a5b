"""The websocket package's server settings (also what other tests start a server with)."""

from __future__ import annotations

# The package's server: fast pings and re-checks, small caps, one allowed browser origin.
WS_SETTINGS: dict[str, object] = {
    "ws_ping_seconds": 0.2,
    "ws_auth_recheck_seconds": 0.2,
    "ws_connection_init_timeout_seconds": 0.5,
    "ws_max_subscriptions_per_connection": 2,
    "ws_max_connections_per_user": 3,
    "allowed_origins": ["https://app.example"],
}
