"""Helper processes: a fresh interpreter running one of the package's modules, fed over pipes.

Used where work can run on another core while the command goes on: parsing data files
(`gitops_tune.dataset.batch`) and the plan's list request (`gitops_tune.commands.early`). Not
``multiprocessing``: it would fork a process that may have threads running, or re-import the
caller's main module. The interpreter starts without ``site`` (about half its start-up time),
so it is handed the caller's ``sys.path``, the folder this package is in first (an editable
install finds it by a ``site`` hook, which ``-S`` skips).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gitops_tune

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


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Close the pipes and reap the process (killed if it has not ended within 10 s)."""
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
