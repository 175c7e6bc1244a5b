"""Regenerates web/vendor/ (`just gen`): the web app's third-party ES modules, pinned.

Why this shape. The web app (web/) has no build step: the browser loads native ES modules,
so neither `uv run just dev` nor `uv run just test` needs Node. Its libraries (graphql-ws's
client, marked and DOMPurify for insight text, Chart.js and its colour helper) are taken
from the npm registry's tarballs at the versions pinned in PACKAGES, each tarball checked
against the sha512 integrity the registry published for that version (pinned here too, so a
changed tarball is refused, not vendored), and the few ES-module files the app imports are
written under web/vendor/<package>/ with the package's licence files beside them.

Two rewrites, both recorded in web/vendor/manifest.json:
- Chart.js's ESM imports its colour library by the bare specifier '@kurkle/color'. A browser
  resolves bare specifiers only through an import map, and an inline <script type=importmap>
  would need a hash or 'unsafe-inline' in the content policy (graph/web.py allows 'self'
  alone). So the specifier becomes the relative path of the vendored @kurkle/color file.
- `//# sourceMappingURL=` lines go: the maps are not vendored, and a developer's tools would
  ask for them and log a 404.

The manifest lists every vendored file with its sha256; tests/web/test_vendor.py checks the
files against it (and it against PACKAGES) with no network, so a hand edit or a stale pin
fails the suite. Nothing is fetched when the API runs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import posixpath
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from graph.web import WEB

VENDOR = WEB / "vendor"
MANIFEST = VENDOR / "manifest.json"
REGISTRY = "https://registry.npmjs.org"
SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*\n?", re.MULTILINE)
# The specifier of each import or export statement (`import … from '…'`, `import '…'`,
# `export … from '…'`), read from a statement's start so that text in strings is left alone.
SPECIFIER = re.compile(
    r"""^[ \t]*(?:import|export)\b(?:[^;'"`]*?\bfrom)?\s*(['"])([^'"\n]+)\1""", re.MULTILINE
)


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity for this version
    # path in the tarball's package/ folder → path under web/vendor/<name>/
    files: dict[str, str]
    licences: dict[str, str]
    # bare specifier → the vendored package whose file it means (`name/path`)
    specifiers: dict[str, str] = field(default_factory=dict)

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


PACKAGES = (
    Package(
        "graphql-ws",
        "6.4.2",
        "sha512-wxhPhhOGJo8PbGDkBYVE76sZLDrS+GkyrR4bZECSLVbo0pZZNKs0HtBh2Ip/uaUuiVUxwO9ssI9R92buQfNSqQ==",
        files={"dist/client.js": "client.js", "dist/common-CGW11Fyb.js": "common-CGW11Fyb.js"},
        licences={"LICENSE.md": "LICENSE.md"},
    ),
    Package(
        "marked",
        "18.3.0",
        "sha512-ed8zmPXlBb3UfGXN5iHMQyMhFpdqLgoV5umUXx/Q1R+FW3q8VpqpyoKUwlENL9appo2UMvNLURDVaT3AMOryGA==",
        files={"lib/marked.esm.js": "marked.esm.js"},
        licences={"LICENSE": "LICENSE"},
    ),
    Package(
        "dompurify",
        "3.5.0",
        "sha512-LYC0ZkE8P1V42JsRYTwMdme/2ET8SpOc5AA2eOFjP/IadvRd2fwiT4TVz5vkfy0XUx12aS2UaRkTnfVPNOv9vw==",
        files={"dist/purify.es.mjs": "purify.es.mjs"},
        licences={"LICENSE": "LICENSE", "LICENSE-MPL": "LICENSE-MPL"},  # (MPL-2.0 OR Apache-2.0)
    ),
    Package(
        "@kurkle/color",
        "0.6.6",
        "sha512-Bd1NjGyoe27ExXRIBu13YymFP6k/wFxpUkX97Z3RlofLFV43nECB2G8vETZzcZzz2Ct2oRzwYElX65lxyi5UNg==",
        files={"dist/color.esm.js": "color.esm.js"},
        licences={"LICENSE": "LICENSE"},
    ),
    Package(
        "chart.js",
        "4.6.2",
        "sha512-xachB+pPHjp0syJi7llUBA1w3kMYl6NF3o7eVrvjnWCT+IB2zMaF2pX5UYDiwbbfsioFEIRnAjreNOMsGj5TIA==",
        files={
            "dist/chart.js": "chart.js",
            "dist/chunks/helpers.dataset.js": "chunks/helpers.dataset.js",
        },
        licences={"LICENSE.md": "LICENSE.md"},
        specifiers={"@kurkle/color": "@kurkle/color/color.esm.js"},
    ),
)


class VendorError(Exception):
    """A tarball or a file in it is not what the pins say."""


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rewrite(text: str, *, at: str, specifiers: dict[str, str]) -> str:
    """A module's text with its bare specifiers made relative to `at` (its path under
    web/vendor/) and its source-map comment removed."""

    def relative(match: re.Match[str]) -> str:
        quote, specifier = match[1], match[2]
        target = specifiers.get(specifier)
        if target is None:
            return match[0]
        path = posixpath.relpath(target, posixpath.dirname(at))
        path = path if path.startswith(".") else f"./{path}"
        return match[0].replace(f"{quote}{specifier}{quote}", f"{quote}{path}{quote}")

    return SOURCE_MAP.sub("", SPECIFIER.sub(relative, text))


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - fixed https URL
        data: bytes = answer.read()
    return data


def unpack(package: Package, tarball: bytes) -> dict[str, bytes]:
    """The vendored files of one package (path under web/vendor/ → bytes), from its tarball."""
    if integrity(tarball) != package.integrity:
        raise VendorError(f"{package.name}@{package.version}: the tarball's sha512 is not pinned")
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:

        def read(path: str) -> bytes:
            member = archive.extractfile(f"package/{path}")
            if member is None:
                raise VendorError(f"{package.name}: package/{path} is not a file")
            return member.read()

        for source, target in package.files.items():
            at = f"{package.name}/{target}"
            text = read(source).decode("utf-8")
            out[at] = rewrite(text, at=at, specifiers=package.specifiers).encode("utf-8")
        for source, target in package.licences.items():
            out[f"{package.name}/{target}"] = read(source)
    return out


def manifest(files: dict[str, bytes]) -> dict[str, object]:
    return {
        "generated_by": "englog/vendor_web.py (just gen): do not edit web/vendor/ by hand",
        "packages": {
            package.name: {
                "version": package.version,
                "tarball": package.tarball,
                "integrity": package.integrity,
                "rewritten": {
                    "specifiers": package.specifiers,
                    "source_map_comments": "removed",
                },
            }
            for package in PACKAGES
        },
        "files": {path: sha256(data) for path, data in sorted(files.items())},
    }


def main() -> None:
    files: dict[str, bytes] = {}
    for package in PACKAGES:
        files.update(unpack(package, fetch(package.tarball)))
    staging = Path(tempfile.mkdtemp(prefix="vendor-", dir=WEB))
    try:
        for path, data in files.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        text = json.dumps(manifest(files), indent=2, sort_keys=True) + "\n"
        (staging / MANIFEST.name).write_text(text, encoding="utf-8")
        shutil.rmtree(VENDOR, ignore_errors=True)
        staging.rename(VENDOR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


if __name__ == "__main__":
    try:
        main()
    except VendorError as exc:
        sys.exit(f"web/vendor not refreshed: {exc}")
