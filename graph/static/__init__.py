"""GraphiQL's page and its assets, vendored (graph/static/refresh.py, run by `just gen`), so
the page works on a network that reaches no CDN."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
# The page GraphQLView serves at /graphql; outside ASSETS, so nothing serves it elsewhere.
GRAPHIQL_PAGE = HERE / "graphiql.html"
# Served as they are at ASSETS_URL (graph/app.py).
ASSETS = HERE / "graphiql"
ASSETS_URL = "/graphiql"
