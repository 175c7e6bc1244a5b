"""The uvicorn factory for the API under test: the real app, configured from ENGLOG_* only."""

from __future__ import annotations

from starlette.applications import Starlette

from graph.app import create_app
from graph.settings import ApiSettings


def create() -> Starlette:
    return create_app(ApiSettings())
