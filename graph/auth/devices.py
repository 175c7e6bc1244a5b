"""A short, human name for what signed in ("Firefox on Linux"), from its User-Agent header.

A rough reading on purpose: it names a session for its owner to recognise, decides nothing,
and keeps nothing else of the header (no version, no build: less to fingerprint)."""

from __future__ import annotations

import re

from db.models.refresh_token import MAX_DEVICE

UNKNOWN = "Unknown device"
# The header's first product ("curl/8.5.0" -> "curl") for clients that are not browsers.
_PRODUCT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,39}")
# Order matters: Edge and Opera say "Chrome", Chrome says "Safari", iOS says "like Mac OS X".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def describe(user_agent: str | None) -> str | None:
    """ "<browser> on <system>", a browser or a client's name alone, or None when the
    header says nothing recognisable."""
    if not user_agent or not user_agent.strip():
        return None
    header = user_agent[:1024]  # what is read of it; the rest of a huge header is ignored
    browser = next((name for marker, name in _BROWSERS if marker in header), None)
    system = next((name for marker, name in _SYSTEMS if marker in header), None)
    if browser is None and not header.startswith("Mozilla/"):
        product = _PRODUCT.match(header.strip())
        browser = product.group(0) if product else None
    if browser and system:
        name = f"{browser} on {system}"
    elif browser or system:
        name = browser or f"A browser on {system}"
    else:
        return None
    return name[:MAX_DEVICE]


def label(device: str | None) -> str:
    return device or UNKNOWN
