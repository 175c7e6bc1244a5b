"""What the API and its workers both say outside the messages: the task kinds' names, the
keys of the calls' metadata, the built-in summariser's model name and the model speed both
sides measure.

It imports nothing of ours: both processes import it, and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping

# The task kinds (Task.kind, StreamTasksRequest.kinds, RegisterWorkerRequest.capabilities);
# each is one oneof of Task.job.
GENERATE_INSIGHT = "generate_insight"
ENRICH_ENTRY = "enrich_entry"
SEND_EMAIL = "send_email"

# The worker's session token (RegisterWorkerResponse.session_token) on every later call.
SESSION_METADATA = "x-englog-session"
# Trailing metadata of the UNAVAILABLE that ends task streams when an API process shuts down:
# the worker's leases are being handed back, so it stops those tasks.
GOING_AWAY_METADATA = "x-englog-going-away"

# The model named in a Success written by the worker's built-in summariser, not an LLM: the
# API tells the user so (its e-mails).
BUILTIN_MODEL = "builtin"


def tokens_per_second(stats: Mapping[str, int]) -> float | None:
    """The model's output speed from a Success's `stats` (Ollama's eval_count and
    eval_duration in ns), or None when it did not report them."""
    tokens, generating = stats.get("eval_count", 0), stats.get("eval_duration", 0)
    return tokens / (generating / 1e9) if tokens and generating else None
