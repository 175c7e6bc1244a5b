"""Generates protos/generated/ from protos/englog/**/*.proto (messages only): `just gen`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PROTOS = Path(__file__).resolve().parent
GENERATED = PROTOS / "generated"
OPTIONS = "client_generation=none,server_generation=none"


def generate(out: Path) -> None:
    sources = sorted(str(path.relative_to(PROTOS)) for path in (PROTOS / "englog").rglob("*.proto"))
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTOS}",
            f"--python_betterproto2_out={out}",
            f"--python_betterproto2_opt={OPTIONS}",
            *sources,
        ],
        check=True,
        cwd=PROTOS,
        capture_output=True,
    )


def main() -> None:
    shutil.rmtree(GENERATED, ignore_errors=True)
    generate(GENERATED)


if __name__ == "__main__":
    main()
