"""The fingerprint of a dataset, and the request size that falls out of it.

sha256 over UTF-8 JSON lines, each ending in ``\\n``::

    {"baseModel":...,"format":"gitops-tune/fingerprint/v1","hyperparameters":{...}}
    {"textInput":"<preamble + input>","output":"<output>"}      (one line per example, in order)

A chat example (`gitops_tune.dataset.chat`) is one line of its canonical JSON instead; a
dataset of pairs only hashes exactly as before the chat format existed.

The first line uses sorted keys and compact separators; hyperparameters carry their defaults
and integers/floats in canonical form (``1e-3`` and ``0.001`` are the same number). Example
lines are exactly what the REST request carries, so their total is also the request size the
4 MB limit applies to (`gitops_tune.dataset.checks.MAX_DATASET_BYTES`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from json.encoder import encode_basestring as json_string
from typing import TYPE_CHECKING, Protocol, TypeVar

from gitops_tune.dataset.records import Example

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

FINGERPRINT_FORMAT = "gitops-tune/fingerprint/v1"
DEFAULT_HYPERPARAMETERS: Mapping[str, object] = {
    "epochCount": 5,
    "batchSize": 4,
    "learningRate": 0.001,
}
_FLOAT_HYPERPARAMETERS = frozenset({"learningRate", "learningRateMultiplier"})
_INT_HYPERPARAMETERS = frozenset({"epochCount", "batchSize"})


def canonical_hyperparameters(hyperparameters: Mapping[str, object]) -> dict[str, object]:
    """Defaults filled in; learning rates as floats, counts as ints; sorted keys."""
    merged: dict[str, object] = dict(hyperparameters)
    for key, value in DEFAULT_HYPERPARAMETERS.items():
        if key == "learningRate" and "learningRateMultiplier" in merged:
            continue
        merged.setdefault(key, value)
    out: dict[str, object] = {}
    for key in sorted(merged):
        value = merged[key]
        if key in _FLOAT_HYPERPARAMETERS and isinstance(value, (int, float)):
            value = float(value)
        elif key in _INT_HYPERPARAMETERS and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[key] = value
    return out


class Fingerprinter:
    """Incremental fingerprint and request size of a dataset (see the module docstring)."""

    __slots__ = ("_hash", "count", "size")

    def __init__(self, base_model: str, hyperparameters: Mapping[str, object]) -> None:
        self._hash = per_model(_header, base_model, hyperparameters).copy()
        self.count = 0
        self.size = 2  # the array's brackets

    def add(self, text_input: str, output: str) -> None:
        """Add one example (preamble already applied). Raises UnicodeEncodeError on lone
        surrogates, which no API accepts."""
        line = (
            '{"textInput":' + json_string(text_input) + ',"output":' + json_string(output) + "}\n"
        ).encode()
        self._hash.update(line)
        # in the request array the newline is a comma, except after the first example
        self.size += len(line) if self.count else len(line) - 1
        self.count += 1

    def add_line(self, line: str) -> None:
        """Add one chat example by its canonical line (`gitops_tune.dataset.chat`); pairs
        keep their own line, so a dataset of pairs keeps its fingerprint."""
        data = (line + "\n").encode()
        self._hash.update(data)
        self.size += len(data) if self.count else len(data) - 1
        self.count += 1

    def add_lines(self, parts: Sequence[bytes | memoryview], count: int) -> None:
        """Add ``count`` examples given as their fingerprint lines joined by ``\\n`` (no
        final newline), in ``parts`` to be hashed in turn, each line exactly as `add` would
        make it; the same result as `add` on each."""
        if not count:
            return
        size = 0
        for part in parts:
            self._hash.update(part)
            size += len(part)
        self._hash.update(b"\n")
        # the request array has a comma where these have a newline, plus one before them
        self.size += size + (1 if self.count else 0)
        self.count += count

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


TypedItems = tuple[tuple[str, type, object], ...]


def _typed_items(hyperparameters: Mapping[str, object]) -> TypedItems:
    """The hyperparameters as a cache key: with their types, since ``1``, ``1.0`` and
    ``True`` are equal keys but not the same JSON."""
    return tuple([(k, type(v), v) for k, v in hyperparameters.items()])


class PerModel(Protocol[T_co]):
    """A `functools.lru_cache` function of what is the same for every file of a model."""

    def __call__(self, first: Hashable, hp: TypedItems, /) -> T_co: ...

    @property
    def __wrapped__(self) -> Callable[..., T_co]: ...


def per_model(function: PerModel[T], first: Hashable, hp: Mapping[str, object]) -> T:
    """``function(first, _typed_items(hp))`` for an `functools.lru_cache` ``function`` of what
    is the same for every file of a model; uncached for a value that cannot be a key."""
    items = _typed_items(hp)
    try:
        return function(first, items)
    except TypeError:
        return function.__wrapped__(first, items)


@functools.lru_cache(maxsize=64)
def _header(base_model: str, hyperparameters: TypedItems) -> Hash:
    """The hash of the first line (the same for every file of a model: made once)."""
    header = {
        "format": FINGERPRINT_FORMAT,
        "baseModel": base_model,
        "hyperparameters": canonical_hyperparameters({k: v for k, _, v in hyperparameters}),
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode() + b"\n")


def fingerprint(
    base_model: str, hyperparameters: Mapping[str, object], examples: Iterable[Example]
) -> str:
    """The fingerprint of examples whose preamble is already applied."""
    fp = Fingerprinter(base_model, hyperparameters)
    for example in examples:
        fp.add(example.text_input, example.output)
    return fp.hexdigest()


def short_fingerprint(fp: str) -> str:
    """The first 12 hex digits, for display."""
    return fp[:12]
