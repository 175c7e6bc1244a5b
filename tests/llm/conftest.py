"""The real-model check runs real processes, as tests/e2e does: its `launcher`, and the output
of every process it started in the report of a failure."""

from tests.e2e.conftest import (
    launcher,
    pytest_runtest_makereport,
    pytest_runtest_setup,
)

__all__ = ["launcher", "pytest_runtest_makereport", "pytest_runtest_setup"]
