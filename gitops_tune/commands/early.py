"""The plan's list request, started before anything else, in a process of its own.

`gitops-tune plan` and `apply` start it as soon as the command line is parsed, when flags or the
environment settle the workspace and a backend that needs nothing from the Workspace document
(they take precedence over it). A helper process (`gitops_tune.workers`) imports google-genai
(half a second of a core: pydantic models for the whole API), makes the request with the
usual retries and sends back the models; meanwhile this process imports the engine, reads the
manifests and their data on its own core, and imports google-genai only once it has a change
to make. If the helper cannot answer (it did not start, it failed, it could not open the
backend) the list is made here, where its errors are said as always; an API error that
outlived the retries is said the same way as when the list is made here.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import dataclass, field

import msgspec

from gitops_tune import workers
from gitops_tune.errors import UserError
from gitops_tune.providers import open_provider
from gitops_tune.providers.base import Provider, ProviderError, RemoteModel
from gitops_tune.providers.retry import with_retries
from gitops_tune.settings import Invocation, Settings

MODULE = "gitops_tune.commands.early"


@dataclass(frozen=True)
class Answer:
    """What the helper sends back: the models and the provider's notices, or why not."""

    models: list[RemoteModel] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    error: str = ""  # an API error that outlived the retries: said as the list's own error
    failed: bool = False  # anything else: the list is made here instead


class EarlyList:
    """The workspace's list request, under way in a helper process (see the module)."""

    def __init__(self, settings: Settings, provider: Provider) -> None:
        self.settings = settings
        self.provider = provider  # this process's own, for what comes after the list
        self._proc: subprocess.Popen[bytes] | None
        try:
            self._proc = workers.start(MODULE)
            assert self._proc.stdin is not None
            self._proc.stdin.write(pickle.dumps(settings))
            self._proc.stdin.close()
        except OSError:
            self._proc = None

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

    def result(self) -> list[RemoteModel]:
        answer = self._answer()
        if answer.error:
            raise UserError(answer.error)
        if answer.failed:
            ws = self.settings.workspace
            try:
                return with_retries(
                    lambda: self.provider.list_models(ws), "list models", self.settings.retry
                )
            except ProviderError as e:
                raise UserError(str(e)) from None
        notices: list[str] | None = getattr(self.provider, "notices", None)
        if notices is not None:
            notices += answer.notices
        return answer.models

    def _answer(self) -> Answer:
        proc, self._proc = self._proc, None
        if proc is None or proc.stdout is None:
            return Answer(failed=True)
        try:
            return msgspec.msgpack.decode(proc.stdout.read(), type=Answer)
        except Exception:  # no answer: the list is made here
            return Answer(failed=True)
        finally:
            workers.stop(proc)


def main() -> None:
    """The helper: settings on standard input (pickled), the `Answer` on standard output
    (msgpack)."""
    settings: Settings = pickle.load(sys.stdin.buffer)
    try:
        provider = open_provider(settings)
        ws = settings.workspace
        models = with_retries(lambda: provider.list_models(ws), "list models", settings.retry)
        answer = Answer(models, list(getattr(provider, "notices", [])))
    except ProviderError as e:
        answer = Answer(error=str(e))
    except Exception:  # said where the list is made again, in the caller
        answer = Answer(failed=True)
    try:  # msgpack: a tenth of pickle's time for 1,000 models and their loss curves
        data = msgspec.msgpack.encode(answer)
    except Exception:  # a model msgspec cannot encode: listed again in the caller
        data = msgspec.msgpack.encode(Answer(failed=True))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
