"""A scan worker process (see `gitops_tune.dataset.batch`) and the job it runs.

A worker writes one `READY` byte once it has started, then reads pickled lists of
``(ScanJob, hashed)`` pairs on standard input until the input ends, and for each list writes
the list of their results (`ScanJob.answer`), pickled, on standard output. It neither reads
nor writes the cache: the caller looked the files up and stores the results. This module
imports only what a scan needs, so that a worker starts quickly.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping
from typing import IO, NamedTuple

from gitops_tune.dataset.digests import content_hash, file_digest
from gitops_tune.dataset.heap import keep_freed_blocks
from gitops_tune.dataset.readers import file_source
from gitops_tune.dataset.records import Scan, Source
from gitops_tune.dataset.scanner import scan

READY = b"\n"


class ScanJob(NamedTuple):
    """One data file to scan with one model's settings (plain values: it crosses processes;
    a tuple, whose hash and pickle are the quickest: it is a key of every table of a batch)."""

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

    def run_hashed(self) -> tuple[Scan, str | None]:
        """The scan, and the hash of the file's bytes (the cache's content key: `digests`),
        taken as they are read for a JSONL file; no digest when the file cannot be read."""
        source = self.source()
        raw = content_hash() if source.kind == "jsonl" else None
        found = scan(source, self.base_model, dict(self.hyperparameters), None, raw)
        if raw is not None:
            return found, raw.hexdigest()
        try:
            return found, file_digest(self.path)
        except OSError:
            return found, None

    def answer(self, hashed: bool) -> tuple[Scan, str | None]:
        """What a worker answers for this job: the scan, and the digest if ``hashed``."""
        return self.run_hashed() if hashed else (self.run(), None)


def main() -> None:
    serve(sys.stdin.buffer, sys.stdout.buffer)


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker's loop (`main` in a started worker; a forked one runs it as it is)."""
    keep_freed_blocks()
    stdout.write(READY)  # started: the caller hands out chunks from now on
    stdout.flush()
    while True:
        try:
            jobs = pickle.load(stdin)
        except EOFError:
            return
        pickle.dump([job.answer(hashed) for job, hashed in jobs], stdout)
        stdout.flush()
