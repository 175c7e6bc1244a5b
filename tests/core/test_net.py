"""core.net: which hosts are this machine only."""

from __future__ import annotations

import pytest

from core.net import is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("::", False),
        ("api.example.com", False),  # names are not resolved: the answer could change
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback_says_whether_a_host_is_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_graph_settings_still_exports_is_loopback() -> None:
    from graph.settings import is_loopback as from_graph

    assert from_graph is is_loopback
