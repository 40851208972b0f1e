"""One data file's scan as a worker process runs it (see `gitops_tune.dataset.batch`), and the
worker's entry.

A worker reads pickled values on standard input: first the `ScanCache` (or None), then lists
of ``(ScanJob, Located | None)`` tasks until the input ends; for each list it writes the list
of their `Outcome` values, pickled, on standard output (after one `READY` byte, once it has
started). It only reads the cache: the caller stores what the workers found. This module
imports only what a scan needs, so that a worker starts quickly.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from gitops_tune.dataset.cache import ContentIndex, Located, Probe, hash_probe
from gitops_tune.dataset.readers import file_source
from gitops_tune.dataset.records import Scan, Source
from gitops_tune.dataset.scanner import scan

READY = b"\n"
Outcome = tuple[Probe | None, Scan]
"""A task's result: what the cache knew of the file (None: no cache, or unreadable) and the
scan (the cache's answer, or a fresh one)."""


@dataclass(frozen=True)
class ScanJob:
    """One data file to scan with one model's settings (plain values: it crosses processes)."""

    path: str
    display: str
    input_field: str
    output_field: str
    preamble: str
    base_model: str
    hyperparameters: tuple[tuple[str, object], ...]

    @classmethod
    def of(cls, source: Source, base_model: str, hp: Mapping[str, object]) -> ScanJob | None:
        """The job for a file source; None for inline examples."""
        if source.path is None:
            return None
        fields, pre = (source.input_field, source.output_field), source.preamble
        return cls(source.path, source.display, *fields, pre, base_model, tuple(sorted(hp.items())))

    def source(self) -> Source:
        fields = {"input_field": self.input_field, "output_field": self.output_field}
        return file_source(self.path, self.display, preamble=self.preamble, **fields)

    def run(self) -> Scan:
        """The scan, without the cache."""
        return scan(self.source(), self.base_model, dict(self.hyperparameters), None)

    def outcome(self, contents: ContentIndex | None, where: Located | None) -> Outcome:
        """Hash the file and look for its content entry; scan it if there is none."""
        if contents is None or where is None:
            return None, self.run()
        found = hash_probe(contents, where)
        if found is None:
            return None, self.run()
        return found, found.hit if found.hit is not None else self.run()


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    cache = pickle.load(stdin)
    contents = ContentIndex(cache) if cache is not None else None
    stdout.write(READY)  # started: the caller hands out chunks from now on
    stdout.flush()
    while True:
        try:
            tasks = pickle.load(stdin)
        except EOFError:
            return
        pickle.dump([job.outcome(contents, where) for job, where in tasks], stdout)
        stdout.flush()
