"""web/vendor/ is generated (englog/vendor_web.py, `just gen`): its files must be exactly the
ones the manifest lists, with the hashes it records, pinned as the script says; no network."""

from __future__ import annotations

import json
import posixpath
import re

from englog.vendor_web import MANIFEST, PACKAGES, SPECIFIER, VENDOR, manifest, rewrite, sha256
from graph.web import WEB

DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*(['"])([^'"\n]+)\1\s*\)""")


def vendored() -> dict[str, bytes]:
    return {
        path.relative_to(VENDOR).as_posix(): path.read_bytes()
        for path in VENDOR.rglob("*")
        if path.is_file() and path != MANIFEST
    }


def test_the_vendored_files_match_the_manifest_and_the_pins() -> None:
    committed = json.loads(MANIFEST.read_text(encoding="utf-8"))
    files = vendored()
    assert committed == manifest(files), "web/vendor is stale or edited by hand: run `just gen`"
    assert committed["files"] == {path: sha256(data) for path, data in sorted(files.items())}
    expected = {
        f"{p.name}/{target}"
        for p in PACKAGES
        for target in [*p.files.values(), *p.licences.values()]
    }
    assert set(files) == expected


def test_every_package_ships_its_licence() -> None:
    files = vendored()
    named = {
        f"{package.name}/{name}": files[f"{package.name}/{name}"].lower()
        for package in PACKAGES
        for name in package.licences.values()
    }
    assert sorted(path for path, text in named.items() if b"licen" not in text) == []
    assert {package.name for package in PACKAGES} == {path.rsplit("/", 1)[0] for path in named}


def test_every_import_of_a_vendored_module_resolves_to_a_vendored_file() -> None:
    """No bare specifier is left (a browser without an import map cannot load one)."""
    files = vendored()
    for path, data in files.items():
        if not path.endswith((".js", ".mjs")):
            continue
        for _, specifier in SPECIFIER.findall(data.decode("utf-8")):
            assert specifier.startswith(("./", "../")), (path, specifier)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), specifier))
            assert target in files, (path, specifier)
        assert "sourceMappingURL" not in data.decode("utf-8"), path


def test_the_apps_imports_resolve_to_files() -> None:
    for module in sorted((WEB / "js").rglob("*.js")):
        text = module.read_text(encoding="utf-8")
        for _, specifier in SPECIFIER.findall(text) + DYNAMIC_IMPORT.findall(text):
            assert specifier.startswith("."), (module, specifier)
            assert (module.parent / specifier).resolve().is_file(), (module, specifier)


def test_rewrite_makes_the_bare_specifier_relative_and_drops_source_maps() -> None:
    text = "import { Color } from '@kurkle/color';\nlet a = 1;\n//# sourceMappingURL=x.js.map\n"
    assert (
        rewrite(
            text,
            at="chart.js/chunks/helpers.dataset.js",
            specifiers={"@kurkle/color": "@kurkle/color/color.esm.js"},
        )
        == "import { Color } from '../../@kurkle/color/color.esm.js';\nlet a = 1;\n"
    )
    assert re.search(
        r"from '\.\./\.\./@kurkle/color/color\.esm\.js'",
        (VENDOR / "chart.js/chunks/helpers.dataset.js").read_text(),
    )
