"""Scanning many data files at once: the files the cache does not know are parsed in worker
processes, so that a first run (a fresh clone with no cache) uses every core.

Parsing is CPU-bound Python, so the workers are processes: fresh interpreters running
`gitops_tune.dataset.worker` (not ``multiprocessing``, which would fork a process that may have
threads running, the plan's early list request, or re-import the caller's main module). Each
gets a share of the jobs, balanced by file size, and runs the very `scan` a single file gets,
without the cache: its `Scan`, diagnostics and all, is exactly what the calling process would
have made; results are put back in the order of the jobs. A worker that fails leaves its jobs
to the calling process. The cache is consulted and written by the calling process only,
hashing the files it does not know.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gitops_tune.dataset.cache import PathIndex, Probe, ScanCache, note_hit, probe, remember
from gitops_tune.dataset.readers import file_source
from gitops_tune.dataset.records import Scan, Source
from gitops_tune.dataset.scanner import scan

#: Below this many bytes still to parse, starting worker processes (about 0.2 s each: an
#: interpreter and the package) costs more than parsing them here.
PARALLEL_MIN_BYTES = 32 << 20


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


class Scans:
    """Scan results worked out ahead of time for a batch of jobs, in parallel."""

    def __init__(self, cache: ScanCache | None, workers: int) -> None:
        self.cache, self.workers = cache, max(1, workers)
        self._done: dict[ScanJob, Scan] = {}

    def prefetch(self, jobs: Iterable[ScanJob]) -> None:
        """Scan every job not yet done: cache hits first, then the rest on ``workers``
        processes (or here, when that is not worth it)."""
        todo = list(dict.fromkeys(j for j in jobs if j not in self._done))
        if self.cache is None:
            self._done.update(zip(todo, self._parse(todo), strict=True))
            return
        cache, index = self.cache, PathIndex(self.cache)
        misses: list[tuple[ScanJob, Probe | None]] = []
        for job, found in zip(todo, self._probes(cache, index, todo), strict=True):
            hit = note_hit(index, found) if found is not None else None
            if hit is not None:
                self._done[job] = hit
            else:
                misses.append((job, found))
        parsed = self._parse([j for j, _ in misses])
        for (job, found), result in zip(misses, parsed, strict=True):
            self._done[job] = result
            if found is not None:
                remember(cache, index, found, result)
        index.save()

    def scan(self, source: Source, base_model: str, hp: Mapping[str, object]) -> Scan:
        """The prefetched result, or a scan now."""
        job = ScanJob.of(source, base_model, hp)
        done = self._done.get(job) if job is not None else None
        return done if done is not None else scan(source, base_model, hp, self.cache)

    def _probes(
        self, cache: ScanCache, index: PathIndex, todo: Sequence[ScanJob]
    ) -> list[Probe | None]:
        """Serially: most are answered by the path index at once, and hashing is I/O plus
        sha256 at about the speed of reading, which more threads would not beat."""
        return [
            probe(cache, index, j.source(), j.path, j.base_model, dict(j.hyperparameters))
            for j in todo
        ]

    def _parse(self, jobs: Sequence[ScanJob]) -> list[Scan]:
        sizes = _sizes(jobs)
        workers = min(self.workers, len(jobs))
        if workers < 2 or sum(sizes) < PARALLEL_MIN_BYTES or not sys.executable:
            return [j.run() for j in jobs]
        shares: list[list[int]] = [[] for _ in range(workers)]
        loads = [0] * workers
        for i in sorted(range(len(jobs)), key=lambda i: -sizes[i]):  # largest first
            least = loads.index(min(loads))
            shares[least].append(i)
            loads[least] += sizes[i]
        results: list[Scan | None] = [None] * len(jobs)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = pool.map(lambda share: _in_worker([jobs[i] for i in share]), shares)
            for share, scans in zip(shares, done, strict=True):
                for i, result in zip(share, scans, strict=True):
                    results[i] = result
        return [r if r is not None else jobs[i].run() for i, r in enumerate(results)]


def _in_worker(jobs: list[ScanJob]) -> list[Scan | None]:
    """``jobs`` scanned by a worker process; Nones where it failed (the caller scans those)."""
    payload = pickle.dumps(sys.path) + pickle.dumps(jobs)
    try:
        done = subprocess.run(
            [sys.executable, "-c", WORKER_CODE], input=payload, capture_output=True, check=True
        )
        scans = pickle.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, pickle.UnpicklingError, EOFError):
        return [None] * len(jobs)
    if not isinstance(scans, list) or len(scans) != len(jobs):
        return [None] * len(jobs)
    return [s if isinstance(s, Scan) else None for s in scans]


#: The worker's entry: the caller's ``sys.path`` first (so it imports the same package), then
#: the jobs; the scans go back on standard output.
WORKER_CODE = (
    "import pickle, sys\n"
    "sys.path[:] = pickle.load(sys.stdin.buffer)\n"
    "from gitops_tune.dataset.worker import main\n"
    "main()\n"
)


def _sizes(jobs: Sequence[ScanJob]) -> list[int]:
    out = []
    for job in jobs:
        size = 0
        with contextlib.suppress(OSError):
            size = os.stat(job.path).st_size
        out.append(size)
    return out
