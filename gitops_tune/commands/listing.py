"""The helper process of `gitops_tune.commands.early`, and how its answer is received.

The helper reads the command's `Invocation` (pickled) on standard input, settles it, opens the
backend, lists the workspace's models with the usual retries and writes an `Answer` on standard
output as msgpack (a tenth of pickle's time for 1,000 models and their loss curves).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import msgspec

from gitops_tune import workers
from gitops_tune.errors import UserError
from gitops_tune.providers import open_provider
from gitops_tune.providers.base import Provider, ProviderError, RemoteModel
from gitops_tune.providers.retry import with_retries
from gitops_tune.settings import Invocation, Settings


@dataclass(frozen=True)
class Answer:
    """The models and the provider's notices, or why not."""

    models: list[RemoteModel] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    #: What else the provider learnt from the list (`Provider.listing_state`: vertex's index
    #: of an earlier version, to be moved by apply), for the command's own provider.
    state: Any = None
    error: str = ""  # an API error that outlived the retries: said as the list's own error
    failed: bool = False  # anything else: the list is made by the command instead


def listed(settings: Settings, provider: Provider) -> list[RemoteModel]:
    """The workspace's models, with the retries; `ProviderError` when they give up."""
    ws = settings.workspace
    return with_retries(lambda: provider.list_models(ws), "list models", settings.retry)


def answer(invocation: Invocation) -> Answer:
    """The helper's work (in whichever process runs it): settle, open the backend, list."""
    settings = invocation.settled_by_flags()
    if settings is None:  # the command does not use this answer
        return Answer(failed=True)
    try:
        provider = open_provider(settings)
        models = listed(settings, provider)
        return Answer(models, list(getattr(provider, "notices", [])), provider.listing_state())
    except ProviderError as e:
        return Answer(error=str(e))
    except Exception:  # said where the list is made again, in the command
        return Answer(failed=True)


def decoded(proc: subprocess.Popen[bytes] | None) -> Answer:
    """The helper's `Answer`, once it has ended; a failed one if it gave none."""
    if proc is None or proc.stdout is None:
        return Answer(failed=True)
    try:
        return msgspec.msgpack.decode(proc.stdout.read(), type=Answer)
    except Exception:  # no answer: the list is made here
        return Answer(failed=True)
    finally:
        workers.stop(proc)


def receive(answer: Answer, settings: Settings, provider: Provider) -> list[RemoteModel]:
    """The answer's models (its notices given to ``provider``), or the list made here;
    `UserError` for the helper's API error, `ProviderError` for this process's."""
    if answer.error:
        raise UserError(answer.error)
    if answer.failed:
        return listed(settings, provider)  # its ProviderError is said by `Session.observe`
    notices: list[str] | None = getattr(provider, "notices", None)
    if notices is not None:
        notices += answer.notices
    provider.adopt_listing_state(answer.state)
    return answer.models


def main() -> None:
    """The helper: the `Invocation` on standard input, the `Answer` on standard output."""
    found = answer(pickle.load(sys.stdin.buffer))
    try:
        data = msgspec.msgpack.encode(found)
    except Exception:  # a model msgspec cannot encode: listed again in the command
        data = msgspec.msgpack.encode(Answer(failed=True))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
