"""The plan's list request, started before anything else: `gitops-tune plan` and `apply`
start it as soon as the command line is parsed, before the engine's own modules are imported
and the manifests read, which then overlap the round trip. This module imports only what the
request needs."""

from __future__ import annotations

import threading

from gitops_tune.errors import UserError
from gitops_tune.providers import open_provider
from gitops_tune.providers.base import Provider, ProviderError, RemoteModel
from gitops_tune.providers.retry import with_retries
from gitops_tune.settings import Invocation, Settings


class EarlyList:
    """The workspace's list request, started before the manifests are read.

    Only when flags or the environment settle the workspace and a backend that needs nothing
    from the Workspace document (they take precedence over it). At 1,000 models the list is a
    round trip of seconds; reading the manifests and datasets then overlaps it instead of
    following it. Errors
    surface where the list would have been made, in the usual order.
    """

    def __init__(self, settings: Settings, provider: Provider) -> None:
        self.settings = settings
        self.provider = provider
        self._result: list[RemoteModel] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gitops-tune-list", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, invocation: Invocation) -> EarlyList | None:
        settings = invocation.settled_by_flags()
        if settings is None:
            return None
        try:
            provider = open_provider(settings)
        except UserError:
            return None  # said again, in its usual place, once the manifests are read
        return cls(settings, provider)

    def _run(self) -> None:
        ws = self.settings.workspace
        try:
            self._result = with_retries(
                lambda: self.provider.list_models(ws), "list models", self.settings.retry
            )
        except BaseException as e:  # handed to the main thread by result()
            self._error = e

    def result(self) -> list[RemoteModel]:
        self._thread.join()
        if isinstance(self._error, ProviderError):
            raise UserError(str(self._error)) from None
        if self._error is not None:
            raise self._error
        return self._result
