"""The wheel (and so the image, infra/Dockerfile installs it) carries the web app inside the
package, and an installed graph/web.py serves that copy: a clone serves its own web/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graph.web import WEB

ROOT = Path(__file__).resolve().parents[2]
# Run with the unpacked wheel first on the path, as site-packages is for an installed EngLog.
WHERE_IS_WEB = "import sys; sys.path.insert(0, sys.argv[1]); import graph.web; print(graph.web.WEB)"


def app_files() -> set[str]:
    return {
        path.relative_to(WEB).as_posix()
        for path in WEB.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.parts)
    }


def test_a_clone_serves_its_own_web_folder() -> None:
    assert ROOT / "web" == WEB
    assert "index.html" in app_files()


@pytest.mark.slow
def test_the_wheel_carries_the_web_app_and_serves_it_from_the_package(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv builds the wheel (as infra/Dockerfile does)"
    subprocess.run(  # noqa: S603 - uv, fixed arguments
        [uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("englog-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "installed")
    packaged = {name.removeprefix("graph/webapp/") for name in names if "/webapp/" in name}
    assert packaged == app_files()
    assert not [name for name in names if name.startswith("web/")]

    where = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WHERE_IS_WEB, str(tmp_path / "installed")],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert where.stdout.strip() == str(tmp_path / "installed" / "graph" / "webapp")
