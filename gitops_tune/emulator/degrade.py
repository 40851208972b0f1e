"""Deliberately worse tuned models, so an evaluation gate's rejection path can be tested end to
end without inventing bad data.

A degraded model answers every prompt wrongly: with the output of the first training example
that differs from the answer it would otherwise give (so a classifier names another label),
else with that answer reversed. Which models are degraded is a set of names, each matched
against a tuned model's ID (``tunedModels/ID`` or the Vertex AI model or tuning job ID, with or
without the resource path) or its display name; ``all`` degrades every tuned model. Set with
``gitops-tune emulator --degrade-model NAME`` (repeatable), `EmulatorConfig.degrade_models`, or
at run time with ``POST /_emulator/config {"degrade_models": [...]}``.

``NAME@EPOCH`` (Vertex AI dialect) degrades one checkpoint only: the answers of the checkpoint
saved at that epoch, on its own endpoint and on the model's endpoint while it is the default
checkpoint; ``all@EPOCH`` that epoch of every model. So checkpoints of one job differ, and
``serving: {checkpoint: best}`` has something to choose between.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

ALL = "all"
FALLBACK = "degraded"


class DegradeError(ValueError):
    pass


class Degraded:
    """The names of the degraded models; shared by both dialects, changed at run time."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._names = parse(names)

    @property
    def names(self) -> tuple[str, ...]:
        with self._lock:
            return self._names

    def set(self, raw: object) -> tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
            raise DegradeError('degrade_models must be a list of model names (or ["all"])')
        names = parse(raw)
        with self._lock:
            self._names = names
        return names

    def matches(self, *names: str, epoch: int | None = None) -> bool:
        """Is the model known by any of ``names`` (IDs, resource names, display name), answering
        with its checkpoint of ``epoch`` (None: a model without checkpoints), degraded?"""
        short = {n.rsplit("/", 1)[-1] for n in names if n}
        for entry in self.names:
            wanted, _, at = entry.partition("@")
            if at and (epoch is None or int(at) != epoch):
                continue
            if wanted == ALL or wanted in names or wanted.rsplit("/", 1)[-1] in short:
                return True
        return False


def parse(names: Iterable[str]) -> tuple[str, ...]:
    out = tuple(sorted({n.strip() for n in names}))
    if any(not n or n.startswith("@") for n in out):
        raise DegradeError("a degraded model's name must not be empty")
    epochs = {n: n.rpartition("@")[2] for n in out if "@" in n}
    bad = [n for n, e in epochs.items() if not e.isdigit() or int(e) == 0]
    if bad:
        raise DegradeError(f"{bad[0]}: write NAME@EPOCH with an epoch number, 1 or more")
    return out


def worse(answer: str, examples: Sequence[tuple[str, str]]) -> str:
    """A wrong answer in place of ``answer``: another example's output, else it reversed."""
    wanted = answer.strip().casefold()
    for _, output in examples:
        if output.strip().casefold() != wanted:
            return output
    flipped = answer[::-1]
    return flipped if flipped.strip().casefold() != wanted else FALLBACK
