"""The `gitops-tune` command line (`main`; `run` is the installed command); see
`gitops_tune.cli.main`."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from gitops_tune.cli.main import main

__all__ = ["main", "run"]


def run() -> NoReturn:
    """`main` as its own process: once the command has finished and its output is flushed,
    the process ends without the interpreter's teardown (freeing every module and object one
    by one: about 0.1 s after a plan of 1,000 models). Every file is written and closed, every
    helper process reaped and every temporary folder removed by then; an output that cannot
    be flushed (a closed pipe) ends the usual way, which reports it, and so does a process
    with a profiler or tracer attached (cProfile, coverage, a debugger), which writes its
    results as the interpreter ends."""
    try:
        main()
    except SystemExit as e:
        code = e.code
    else:  # pragma: no cover - click's main always exits
        code = 0
    if not isinstance(code, int | None) or sys.getprofile() or sys.gettrace():
        raise SystemExit(code)  # a message to print, or results still to write
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code or 0)
