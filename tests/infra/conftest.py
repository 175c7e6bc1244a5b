"""The deployment files need no database: these tests skip the suite's per-test truncation."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Shadows the root conftest's fixture of the same name, which truncates PostgreSQL."""
