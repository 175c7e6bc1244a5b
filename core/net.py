"""Small network helpers shared by the API and the worker."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only: `localhost` or a loopback address (IPv4 or
    IPv6). Other names are not resolved: a DNS answer could change after the check."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
