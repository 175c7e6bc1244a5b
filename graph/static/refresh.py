"""Regenerates graph/static/graphiql.html and graph/static/graphiql/ (`just gen`).

Strawberry's GraphiQL page (strawberry/static/graphiql.html) loads React, GraphiQL and its
plugin from a CDN, and runs an inline script. On a private network the CDN is not there and
the page never leaves "Loading...". This takes exactly the npm packages and versions that
page names, from the npm registry (`npm pack`), checks each file against the page's own
subresource-integrity hash, and writes them with their licences under graph/static/graphiql/.
The page is rewritten to load them from there, and its inline style and script become files
too, so the content policy (graph/middleware.py) can allow 'self' alone. Nothing is fetched
when the API runs; the page building itself needs no network (a test checks for drift).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import strawberry

from graph.static import ASSETS, ASSETS_URL, GRAPHIQL_PAGE

# In Strawberry's GraphiQL page (strawberry/static/graphiql.html), and what replaces it:
# the same fetcher, plus connection_init params read when the socket (re)connects, taken
# from the headers editor of the latest request (graphql-ws calls a function afresh).
# This script makes the replacement in the page's script it vendors.
GRAPHIQL_FETCHER = """      const fetcher = GraphiQL.createFetcher({
        url: fetchURL,
        headers: defaultHeaders,
        subscriptionUrl,
      });"""
GRAPHIQL_FETCHER_WITH_TOKEN = """      let englogAuthorization = null;
      const englogFetcher = GraphiQL.createFetcher({
        url: fetchURL,
        headers: defaultHeaders,
        subscriptionUrl,
        wsConnectionParams: () =>
          englogAuthorization ? { authorization: englogAuthorization } : {},
      });
      const fetcher = (params, options) => {
        const headers = (options && options.headers) || {};
        const name = Object.keys(headers).find((key) => key.toLowerCase() === "authorization");
        englogAuthorization = name ? headers[name] : null;
        return englogFetcher(params, options);
      };"""  # noqa: S105 (JavaScript that handles a token, not one)

STRAWBERRY_PAGE = Path(strawberry.__file__).resolve().parent / "static" / "graphiql.html"
CDN_ASSET = re.compile(
    r'(?P<attr>src|href)="https://unpkg\.com/'
    r"(?P<package>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[\w.-]+)/(?P<path>[^\"]+)\""
    r'(?P<between>\s+)integrity="(?P<integrity>sha384-[A-Za-z0-9+/=]+)"'
)
INLINE_STYLE = re.compile(r"<style>\n(?P<body>.*?)</style>", re.DOTALL)
INLINE_SCRIPT = re.compile(r"<script>\n(?P<body>.*?)</script>", re.DOTALL)
# The page's own style and script, once they are files.
PAGE_CSS = "englog/page.css"
PAGE_JS = "englog/page.js"
LICENCE_NAMES = re.compile(r"(licen[cs]e|copying)(\.(md|txt))?", re.IGNORECASE)


class PageChanged(Exception):
    """Strawberry's page is not the one this was written for: look at it again."""


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    path: str
    integrity: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def relative(self) -> str:
        """Where it lives under graph/static/graphiql/ (and under ASSETS_URL)."""
        return f"{self.spec}/{self.path}"


@dataclass(frozen=True)
class Page:
    html: str
    # The page's own files (its style and script), by their path under ASSETS.
    files: dict[str, str]
    assets: tuple[Asset, ...]


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def build_page(strawberry_html: str) -> Page:
    """Strawberry's page loading everything from ASSETS_URL, with no inline style or script,
    and with the fetcher whose subscriptions send the headers editor's token (graph/http.py)."""
    assets: list[Asset] = []

    def local(match: re.Match[str]) -> str:
        asset = Asset(match["package"], match["version"], match["path"], match["integrity"])
        assets.append(asset)
        return (
            f'{match["attr"]}="{ASSETS_URL}/{asset.relative}"'
            f'{match["between"]}integrity="{asset.integrity}"'
        )

    html = CDN_ASSET.sub(local, strawberry_html)
    styles = INLINE_STYLE.findall(html)
    scripts = INLINE_SCRIPT.findall(html)
    if not assets or len(styles) != 1 or len(scripts) != 1:
        raise PageChanged("expected CDN assets, one inline <style> and one inline <script>")
    if GRAPHIQL_FETCHER not in scripts[0]:
        raise PageChanged("the page's fetcher is not the one graph/http.py replaces")
    css = textwrap.dedent(styles[0])
    js = textwrap.dedent(scripts[0].replace(GRAPHIQL_FETCHER, GRAPHIQL_FETCHER_WITH_TOKEN))
    html = INLINE_STYLE.sub(
        f'<link rel="stylesheet" href="{ASSETS_URL}/{PAGE_CSS}" '
        f'integrity="{integrity(css.encode())}" />',
        html,
    )
    html = INLINE_SCRIPT.sub(
        f'<script src="{ASSETS_URL}/{PAGE_JS}" integrity="{integrity(js.encode())}"></script>',
        html,
    )
    if re.search(r'(src|href)="(https?:)?//', html):
        raise PageChanged("the page loads something this does not vendor")
    return Page(html=html, files={PAGE_CSS: css, PAGE_JS: js}, assets=tuple(assets))


def _pack(spec: str, into: Path) -> tuple[Path, dict[str, object]]:
    """The package's files, unpacked from the registry's tarball (npm checks its hash
    against the registry's metadata), and its package.json."""
    done = subprocess.run(  # noqa: S603 - npm with fixed arguments and a pinned version
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    )
    [packed] = json.loads(done.stdout)
    root = into / spec.replace("/", "__")
    with tarfile.open(into / packed["filename"]) as tarball:
        tarball.extractall(root, filter="data")
    package = root / "package"
    manifest: dict[str, object] = json.loads((package / "package.json").read_text())
    return package, manifest


def _repository(manifest: dict[str, object]) -> str:
    repository = manifest.get("repository")
    url = repository.get("url", "") if isinstance(repository, dict) else str(repository or "")
    return re.sub(r"^(git\+)?(https?|git|ssh)://|\.git$", "", str(url)).lower()


def _licence(package: Path) -> str | None:
    for candidate in sorted(package.iterdir()):
        if candidate.is_file() and LICENCE_NAMES.fullmatch(candidate.name):
            return candidate.read_text(encoding="utf-8")
    return None


def vendor(page: Page, out: Path) -> None:
    """Writes the page's assets (checked against its integrity hashes), a LICENSE beside
    each package's files, NOTICE.md and the page's own files into `out`."""
    specs = sorted({asset.spec for asset in page.assets})
    unpacked: dict[str, tuple[Path, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as temporary:
        for spec in specs:
            unpacked[spec] = _pack(spec, Path(temporary))
        for asset in page.assets:
            data = (unpacked[asset.spec][0] / asset.path).read_bytes()
            if integrity(data) != asset.integrity:
                raise PageChanged(f"{asset.relative} does not match the page's integrity hash")
            target = out / asset.relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        licences = {spec: _licence(package) for spec, (package, _) in unpacked.items()}
        notice = [
            "# GraphiQL's assets, vendored",
            "",
            "Written by `graph/static/refresh.py` (`just gen`) from the npm registry: the",
            "packages and versions Strawberry's GraphiQL page names, each file checked against",
            "that page's integrity hash. Do not edit by hand. The bundles (graphiql.min.js,",
            "index.umd.js) embed their own dependencies (CodeMirror, graphql-js, graphql-ws,",
            "markdown-it, graphiql-explorer, ...), all under licences their packages declare.",
            "",
            "| package | version | licence | files |",
            "| --- | --- | --- | --- |",
        ]
        for spec in specs:
            manifest = unpacked[spec][1]
            text = licences[spec]
            if text is None:
                # @graphiql/plugin-explorer ships none: it lives in the same repository as
                # graphiql, whose licence file covers the repository.
                sibling = next(
                    (
                        other
                        for other, (_, other_manifest) in unpacked.items()
                        if licences[other] and _repository(other_manifest) == _repository(manifest)
                    ),
                    None,
                )
                if sibling is None:
                    raise PageChanged(f"{spec} ships no licence file")
                text = (
                    f"{spec} ships no licence file; its package.json says "
                    f"{manifest.get('license')}, and it comes from {_repository(manifest)},\n"
                    f"whose licence ({sibling}'s LICENSE) follows.\n\n{licences[sibling]}"
                )
            (out / spec / "LICENSE").write_text(text, encoding="utf-8")
            files = ", ".join(a.path for a in page.assets if a.spec == spec)
            name, version = spec.rsplit("@", 1)
            notice.append(f"| {name} | {version} | {manifest.get('license')} | {files} |")
    for relative, text in page.files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (out / "NOTICE.md").write_text("\n".join(notice) + "\n", encoding="utf-8")


def main() -> None:
    page = build_page(STRAWBERRY_PAGE.read_text(encoding="utf-8"))
    staging = Path(tempfile.mkdtemp(prefix="graphiql-", dir=ASSETS.parent))
    try:
        vendor(page, staging)
        shutil.rmtree(ASSETS, ignore_errors=True)
        staging.rename(ASSETS)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    GRAPHIQL_PAGE.write_text(page.html, encoding="utf-8")


if __name__ == "__main__":
    try:
        main()
    except PageChanged as exc:
        sys.exit(f"GraphiQL not vendored: {exc}")
