"""Helper processes: a fresh interpreter running one of the package's modules, fed over pipes.

Used where work can run on another core while the command goes on: parsing data files
(`gitops_tune.dataset.batch`) and the plan's list request (`gitops_tune.commands.early`). Not
``multiprocessing``: it would fork a process that may have threads running, or re-import the
caller's main module. The interpreter starts without ``site`` (about half its start-up time),
so it is handed the caller's ``sys.path``, the folder this package is in first (an editable
install finds it by a ``site`` hook, which ``-S`` skips).

A scan worker is forked instead where that is safe (`fork`): on Linux, from a process with no
other thread (a lock another thread held at the fork would stay held in the child). It has the
modules already, so it takes chunks a few milliseconds after it is asked for, not a tenth of a
second of a core later.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

import gitops_tune


class Helper(Protocol):
    """A helper process as its caller sees it: `subprocess.Popen` or `Forked`."""

    @property
    def stdin(self) -> IO[bytes] | None: ...

    @property
    def stdout(self) -> IO[bytes] | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


#: How a helper ends once ``main()`` has returned: its output flushed, without the
#: interpreter's teardown (0.1-0.3 s of a core with google-genai loaded), which the caller,
#: waiting for the end of the output, would otherwise wait for.
END = "sys.stdout.flush()\nimport os\nos._exit(0)\n"
#: The helper's entry: the caller's ``sys.path``, then ``main()`` of the module named first.
CODE = (
    "import sys\nmodule = sys.argv[1]\nsys.path[:] = sys.argv[2:]\n"
    "import importlib\nimportlib.import_module(module).main()\n" + END
)


def start(module: str, code: str = CODE) -> subprocess.Popen[bytes]:
    """``module``'s ``main()`` in a new interpreter, its standard input and output piped to
    this process (its standard error discarded). Raises `OSError` if it cannot start."""
    home = str(Path(gitops_tune.__file__).resolve().parent.parent)
    argv = [sys.executable, "-S", "-c", code, module, home, *sys.path]
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )


def stop(proc: Helper) -> None:
    """Close the pipes and reap the process (killed if it has not ended within 10 s)."""
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):  # what a dead helper was sent and never read
                stream.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Forked:
    """A child forked by `fork`, with its pipes."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            elif deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            else:
                time.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)


def fork(main: Callable[[IO[bytes], IO[bytes]], None]) -> Forked | None:
    """``main(stdin, stdout)`` in a child forked from this process, fed over pipes as a
    started helper is; None where forking is not safe (not Linux, or other threads running).
    The child keeps no other file of this process open (a pipe it held would never end for
    its reader), leaves this process's buffers unflushed and ends without its teardown."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return None
    down_r, down_w = os.pipe()
    up_r, up_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to be had: the caller starts one, or goes on alone
        for fd in (down_r, down_w, up_r, up_w):
            os.close(fd)
        return None
    if pid == 0:  # the child
        code = 1
        try:
            _only(down_r, up_w)
            gc.freeze()  # the objects it shares with its parent: never scanned, never copied
            main(os.fdopen(down_r, "rb"), os.fdopen(up_w, "wb"))
            code = 0
        finally:
            os._exit(code)
    os.close(down_r)
    os.close(up_w)
    return Forked(pid, os.fdopen(down_w, "wb"), os.fdopen(up_r, "rb"))


def _only(*keep: int) -> None:
    """Close every file descriptor but ``keep``; standard input, output and error become
    /dev/null."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd not in keep:
            os.dup2(null, fd)
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))
