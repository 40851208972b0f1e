"""The plan's list request, started before anything else, in a process of its own.

`gitops-tune plan` and `apply` start it as soon as the command line is parsed, when flags or the
environment settle the workspace and a backend that needs nothing from the Workspace document
(they take precedence over it; vertex: once the environment names its project, location and
staging bucket, which a Workspace document could still override: the list is then made again). A
helper process (`gitops_tune.workers`) running `gitops_tune.commands.listing` imports
google-genai (half a second of a core: pydantic models for the whole API), makes the request
with the usual retries and sends back the models; meanwhile this process imports the engine and
reads the manifests and their data on its own core, and imports google-genai only once it has a
change to make. Where google-genai is imported already (a long-lived process, the tests), the
helper would save nothing: the list runs on a thread instead. This module imports only what
starting the helper needs.

If the helper cannot answer (it did not start, it failed, it could not open the backend) the
list is made here, where its errors are said as always; an API error that outlived the
retries reads the same either way.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

from gitops_tune import workers
from gitops_tune.settings import Invocation

if TYPE_CHECKING:
    from gitops_tune.commands.listing import Answer
    from gitops_tune.providers.base import Provider, RemoteModel
    from gitops_tune.settings import Settings

MODULE = "gitops_tune.commands.listing"


class EarlyList:
    """The workspace's list request, under way in a helper process (see the module), or on a
    thread where google-genai is imported already (a long-lived process, the tests)."""

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._answer: Answer | None = None
        if not _imported_here():
            try:
                self._proc = workers.start(MODULE)
                assert self._proc.stdin is not None
                self._proc.stdin.write(pickle.dumps(invocation))
                self._proc.stdin.close()
                return
            except OSError:
                self._proc = None
        self._thread = threading.Thread(target=self._here, name="gitops-tune-list", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, invocation: Invocation) -> EarlyList | None:
        return cls(invocation) if invocation.flags_settle() else None

    def serves(self, settings: Settings) -> bool:
        """Whether the list under way is the one these settings (the manifests') ask for: the
        same workspace and backend, and for vertex the same project, location and bucket (a
        Workspace document's ``spec.vertex`` takes precedence over the environment)."""
        early = self.invocation.settled_by_flags()
        return early is not None and (early.workspace, early.backend, early.vertex) == (
            settings.workspace,
            settings.backend,
            settings.vertex,
        )

    def result(self, settings: Settings, provider: Provider) -> list[RemoteModel]:
        """The models, from the helper (or the thread) or else listed here with ``provider``
        (`listing.receive` says how a failed list is raised)."""
        from gitops_tune.commands import listing

        if self._thread is not None:
            self._thread.join()
            found = self._answer or listing.Answer(failed=True)
        else:
            proc, self._proc = self._proc, None
            found = listing.decoded(proc)
        return listing.receive(found, settings, provider)

    def cancel(self) -> None:
        """Stop the helper: its list is not the one asked for (a thread just ends unheard)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            workers.stop(proc)

    def _here(self) -> None:
        from gitops_tune.commands import listing

        self._answer = listing.answer(self.invocation)


def _imported_here() -> bool:
    """google-genai is imported in this process already: the helper would save nothing."""
    return "google.genai" in sys.modules
