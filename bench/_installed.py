"""The package as an installed copy runs it: byte-compiled (pip compiles every module).

Run from a source tree with PYTHONDONTWRITEBYTECODE set (this machine sets it) or read-only,
every CLI process a bench starts would compile each module it imports again, about 0.2 s a
plan, which no installed copy pays. Benches that time the CLI call `compile_package` first."""

from __future__ import annotations

import compileall
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def compile_package() -> None:
    compileall.compile_dir(str(REPO / "gitops_tune"), quiet=1)
