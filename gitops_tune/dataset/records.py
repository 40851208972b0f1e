"""The values every part of `gitops_tune.dataset` shares: examples, rows, sources, scans.

They live apart from the code that makes them so that the readers, the checks, the scan and
the fingerprint cache can all name them without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from gitops_tune.errors import Diagnostic, Location

#: File suffixes a dataset ``path`` may have, and the reader each selects.
SUFFIXES: Mapping[str, str] = {".jsonl": "jsonl", ".json": "json", ".csv": "csv"}


class Example(NamedTuple):
    """One single-turn training pair, the preamble already prepended to ``text_input``."""

    text_input: str
    output: str


class Row(NamedTuple):
    """One raw example as read from its source, before any checks."""

    file: str
    line: int | None
    col: int | None
    field: str | None  # the manifest field path of an inline example; None in a data file
    value: object

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.col)


Item = Row | Diagnostic
"""What a reader yields: rows, and diagnostics for what it could not read."""


@dataclass(frozen=True)
class Source:
    """Where a model's examples come from and how to turn rows into examples."""

    rows: Callable[[], Iterable[Item]]  # re-readable: each call reads the source again
    display: str  # for messages: the data file, or the manifest for inline examples
    input_field: str = "text_input"
    output_field: str = "output"
    preamble: str = ""
    inline: bool = False  # inline examples: unknown keys are errors
    path: str | None = None  # the data file to open, for a file source

    @property
    def kind(self) -> str | None:
        """The reader a file source uses (see `SUFFIXES`), from the name the user wrote."""
        if self.path is None or "." not in self.display:
            return None
        return SUFFIXES.get(self.display[self.display.rfind(".") :].lower())


@dataclass(frozen=True)
class Scan:
    """What one pass over a dataset found."""

    count: int  # examples read, valid or not
    size: int  # bytes of the serialized REST `examples` array (valid examples)
    fingerprint: str
    errors: tuple[Diagnostic, ...]


class DatasetError(Exception):
    """A reader cannot go on (e.g. invalid UTF-8); carries the one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic
