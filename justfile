# EngLog's routine tasks. `uv run just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Everything on this machine: embedded PostgreSQL/Redis unless ENGLOG_DATABASE_URL/REDIS_URL are set.
dev *ARGS:
    uv run englog dev {{ARGS}}

# The whole test suite (real PostgreSQL and Redis: ENGLOG_TEST_*_URL, else embedded ones).
test *ARGS:
    uv run pytest {{ARGS}}

# Lint, format check, strict typing and generated-file drift.
check:
    uv run ruff format --check .
    uv run ruff check .
    uv run mypy .
    uv run englog export-schema | diff -u schema.graphql - || (echo "schema.graphql is stale: run 'just gen'" && exit 1)

# Rewrite the formatting ruff can fix.
fmt:
    uv run ruff format .
    uv run ruff check --fix .

# Regenerate committed generated files (schema.graphql, the gRPC messages).
gen:
    uv run englog export-schema > schema.graphql
    uv run python -m protos.generate

# Apply migrations to ENGLOG_DATABASE_URL.
migrate *ARGS:
    uv run englog migrate {{ARGS}}

# The public API process alone (production shape; needs ENGLOG_DATABASE_URL and ENGLOG_REDIS_URL).
api:
    uv run englog api

# Benchmarks against a same-run baseline; prints the figures (not part of `just test`).
bench *ARGS:
    uv run python -m bench {{ARGS}}
