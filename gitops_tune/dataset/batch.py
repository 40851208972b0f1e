"""Scanning many data files at once: what the cache does not answer is parsed on every core,
so that a first run (a fresh clone with no cache) uses them all.

The calling process answers what the path index knows (a ``stat``, no reading), then hashes
the other files, largest first, and looks their bytes up in the content entries (hashing runs
at about the speed of reading: one process keeps up). With no content entry at all (a first
run) there is nothing to look up: the files are not hashed first but as they are parsed, the
worker or this process feeding each block it reads to the digest too (`ScanJob.answer`). The
files still unknown go into chunks on one queue as they are found; once there is enough to
parse (on a first run, as soon as the files located add up to that), worker processes start
(``workers - 1`` of them) and take chunks, and when the hashing is done the calling process
takes chunks too. Parsing is CPU-bound, so the workers are processes: forked from this one
where that is safe (`gitops_tune.workers.fork`: Linux, no other thread running), else fresh
interpreters running `gitops_tune.dataset.worker` (not ``multiprocessing``, which would fork
a process that may have threads running or re-import the caller's main module), started
without ``site`` or the package's ``__init__``; either is fed over a pipe, the next chunk sent
before the answers to the last are stored. A worker runs the very `ScanJob.run` the calling
process runs (its `Scan`, diagnostics and all, is exactly what the calling process would have
made); the calling process stores each result as it comes (`_Ledger`) and writes the cache's
files once. A worker takes its first chunk once it has started (says so), so one that starts
late takes fewer and makes nobody wait; one that fails leaves its chunk to the calling
process. A restored CI cache thus costs one hashing pass and starts no worker.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from gitops_tune import workers
from gitops_tune.dataset.cache import (
    ContentIndex,
    Located,
    PathIndex,
    Probe,
    ScanCache,
    hash_probe,
    hashed,
    locate,
    recall,
    settle,
)
from gitops_tune.dataset.heap import keep_freed_blocks
from gitops_tune.dataset.readers import RealPaths
from gitops_tune.dataset.records import Scan, Source
from gitops_tune.dataset.scanner import scan
from gitops_tune.dataset.worker import READY, ScanJob, serve

#: Below this many bytes to parse, a worker process (about 0.1-0.3 s of a core to start: an
#: interpreter and the scanner) costs more than it saves.
PARALLEL_MIN_BYTES = 16 << 20
#: A chunk is this share of the bytes still queued, split among the processes (guided
#: scheduling: a late or slow worker leaves little to wait for), and at least this many bytes.
SHARES = 2
MIN_CHUNK_BYTES = 1 << 20
#: Fork workers where `workers.fork` finds it safe (the tests turn it off to start them).
FORK = True

Chunk = list[tuple[ScanJob, bool, int]]
"""Jobs handed out together, each with whether its file's digest is wanted too (a first
run's: the worker hashes the bytes it parses, see `ScanJob.answer`) and its size; a worker is
sent the (job, hashed) pairs."""


class Scans:
    """Scan results worked out ahead of time for a batch of jobs, in parallel."""

    def __init__(self, cache: ScanCache | None, workers: int) -> None:
        self.cache, self.workers = cache, max(1, workers)
        self._done: dict[ScanJob, Scan] = {}

    def prefetch(self, jobs: Iterable[ScanJob]) -> None:
        """Scan every job not yet done: the cache's answers first, the rest on every core
        (or here, when that is not worth it).

        On a first run (no content entry yet) nothing can be looked up by content: each file
        the path entries do not know is queued for parsing as soon as it is located (and
        hashed as it is parsed), so the workers are at work while the rest are located.
        Otherwise those files are hashed, largest first, and looked up by content, and only
        the ones still unknown are queued."""
        todo = list(dict.fromkeys(j for j in jobs if j not in self._done))
        index = PathIndex(self.cache) if self.cache is not None else None
        first = self.cache is None or not _size(self.cache.contents)
        pool: Pool | None = None
        ledger: _Ledger | None = None
        unknown: list[tuple[ScanJob, Located | None, int]] = []
        realpaths = RealPaths()
        for job in todo:
            where = None
            if index is not None:
                hp = dict(job.hyperparameters)
                where = locate(job.source(), job.path, job.base_model, hp, realpaths)
                known = recall(index, where) if where is not None else None
                if known is not None and known.hit is not None:
                    self._done[job] = known.hit
                    continue
            if pool is None:  # the first file to hash or parse: the content entries too
                ledger = _Ledger(index, self.cache) if index is not None and self.cache else None
                pool = Pool(self.workers, ledger)
            size = where.stat[0] if where is not None else _size(job.path)
            if first:
                self._queue(pool, ledger, job, where, size)
            else:
                unknown.append((job, where, size))
        if pool is None:
            return
        unknown.sort(key=lambda u: -u[2])  # largest first: the last chunks even out the end
        for job, where, size in unknown:
            self._queue(pool, ledger, job, where, size)
        self._done.update(pool.finish())
        if ledger is not None:
            ledger.save()

    def _queue(
        self, pool: Pool, ledger: _Ledger | None, job: ScanJob, where: Located | None, size: int
    ) -> None:
        """Queue ``job`` for parsing, unless its file's content entry answers (`_Ledger.probe`:
        on a first run it is not looked up, its file is hashed as it is parsed)."""
        if ledger is not None and where is not None:
            hit = ledger.probe(job, where)
            if hit is not None:
                self._done[job] = hit
                return
        pool.add(job, size, ledger is not None and job in ledger.later)

    def scan(self, source: Source, base_model: str, hp: Mapping[str, object]) -> Scan:
        """The prefetched result, or a scan now."""
        job = ScanJob.of(source, base_model, hp)
        done = self._done.get(job) if job is not None else None
        return done if done is not None else scan(source, base_model, hp, self.cache)


class _Ledger:
    """The cache's side of a batch: each file's probe, and each result stored as it comes
    (in the thread that gets it, while the others parse)."""

    def __init__(self, index: PathIndex, cache: ScanCache) -> None:
        self.index, self.contents = index, ContentIndex(cache)
        self.probes: dict[ScanJob, Probe] = {}
        self.later: dict[ScanJob, Located] = {}  # no content entry: hashed as they are parsed
        self.first = not self.contents

    def probe(self, job: ScanJob, where: Located) -> Scan | None:
        """The content entry's result for ``job``'s file, if any (it is hashed for that,
        unless this is a first run)."""
        if self.first:
            self.later[job] = where
            return None
        found = hash_probe(self.contents, where)
        if found is None:
            return None
        self.probes[job] = found
        if found.hit is not None:
            settle(self.index, self.contents, found, found.hit)
        return found.hit

    def note(self, job: ScanJob, result: Scan, digest: str | None) -> None:
        """Store ``job``'s fresh ``result`` (``digest``: its file's, taken as it was read)."""
        found = self.probes.get(job)
        if found is None and digest is not None and job in self.later:
            found = hashed(self.later[job], digest)
        if found is not None:
            settle(self.index, self.contents, found, result)

    def save(self) -> None:
        self.index.save()
        self.contents.save()


def _size(path: str | Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


class Pool:
    """The jobs to parse, on one queue, taken a chunk at a time by worker processes (`feed`,
    one thread each, started once there is enough to parse) and by this process (`finish`).
    A chunk is cut as it is taken, a share of the bytes still queued (guided scheduling):
    the first ones go to work at once and the last ones are small, so that nobody waits long
    for the others at the end. While this process is still queueing files (it parses none
    then), the workers split what is queued: a worker that had to come back for more then
    would wait for its feeding thread, which shares the interpreter with the queueing."""

    def __init__(self, workers: int, ledger: _Ledger | None) -> None:
        self.helpers, self.ledger = workers - 1, ledger
        self.queue: deque[tuple[ScanJob, bool, int]] = deque()
        self.left = self.added = 0  # bytes queued and not taken yet; bytes ever queued
        self.closed = False
        self.ready = threading.Condition()
        self.results: dict[ScanJob, Scan] = {}
        self.threads: list[threading.Thread] = []

    def add(self, job: ScanJob, size: int, hashed: bool = False) -> None:
        """Queue ``job`` (``hashed``: its file's digest wanted too, see `ScanJob.answer`)."""
        self._put([(job, hashed, size)])
        self.added += size
        wanted = self.helpers > 0 and self.added >= PARALLEL_MIN_BYTES and sys.executable
        if wanted and not self.threads:
            # every worker before the first feeding thread: a fork needs this one alone
            procs = [_start() for _ in range(self.helpers)]
            for proc in procs:
                thread = threading.Thread(target=self.feed, args=(proc,), daemon=True)
                thread.start()
                self.threads.append(thread)

    def _put(self, chunk: Chunk, first: bool = False) -> None:
        """Queue ``chunk`` (``first``: before the rest, as a chunk given back)."""
        with self.ready:
            if first:
                self.queue.extendleft(reversed(chunk))
            else:
                self.queue.extend(chunk)
            self.left += sum(size for _, _, size in chunk)
            self.ready.notify()

    def take(self) -> Chunk | None:
        """The next chunk: one job at least, and jobs up to a share of the bytes queued
        (`SHARES`, `MIN_CHUNK_BYTES`); None once the queue is closed and empty."""
        with self.ready:
            while not self.queue and not self.closed:
                self.ready.wait()
            parts = SHARES * (self.helpers + 1) if self.closed else max(1, self.helpers)
            share = max(MIN_CHUNK_BYTES, self.left // parts)
            chunk: Chunk = []
            taken = 0
            while self.queue and (not chunk or taken < share):
                chunk.append(self.queue.popleft())
                taken += chunk[-1][2]
            self.left -= taken
            return chunk or None

    def finish(self) -> dict[ScanJob, Scan]:
        """Close the queue, take chunks here until it is empty, and wait for the workers."""
        with self.ready:
            self.closed = True
            self.ready.notify_all()
        self._here()
        for thread in self.threads:
            thread.join()
        self._here()  # chunks a failed worker gave back
        return self.results

    def _here(self) -> None:
        while (chunk := self.take()) is not None:
            keep_freed_blocks()
            for job, with_digest, _ in chunk:
                self._note(job, *job.answer(with_digest))

    def _note(self, job: ScanJob, result: Scan, digest: str | None) -> None:
        self.results[job] = result
        if self.ledger is not None:
            self.ledger.note(job, result, digest)

    def feed(self, proc: workers.Helper | None) -> None:
        """Give a worker chunks until the queue is empty. The next chunk goes out before the
        answers to the last are noted, so the worker is not kept waiting; a chunk it does not
        answer goes back to the queue (and this worker is done)."""
        if proc is None:
            return
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None
        sent: Chunk | None = None
        try:
            if stdout.read(1) != READY:  # a chunk taken before the worker is up would wait
                return
            sent = self._give(stdin)
            while sent is not None and (answers := _answers(stdout, sent)) is not None:
                done, sent = sent, self._give(stdin)
                for (job, _, _), (result, digest) in zip(done, answers, strict=True):
                    self._note(job, result, digest)
        except OSError:
            pass
        finally:
            if sent is not None:
                self._put(sent, first=True)
            workers.stop(proc)

    def _give(self, stdin: IO[bytes]) -> Chunk | None:
        """The next chunk, sent to a worker; None once the queue is empty (or the worker
        cannot be written to: the chunk goes back)."""
        chunk = self.take()
        if chunk is not None:
            try:
                pickle.dump([(job, digest) for job, digest, _ in chunk], stdin)
                stdin.flush()
            except (OSError, pickle.PickleError):
                self._put(chunk, first=True)
                return None
        return chunk


def _answers(stdout: IO[bytes], chunk: Chunk) -> list[tuple[Scan, str | None]] | None:
    """A worker's answers to ``chunk``, if they are whole."""
    try:
        answers = pickle.load(stdout)
    except (OSError, EOFError, pickle.PickleError):
        return None
    if not isinstance(answers, list) or len(answers) != len(chunk):
        return None
    return answers if all(_answer(answer) for answer in answers) else None


def _answer(value: object) -> bool:
    """A worker's answer for one job: ``(Scan, digest or None)``."""
    if type(value) is not tuple or len(value) != 2:
        return False
    return isinstance(value[0], Scan) and (value[1] is None or isinstance(value[1], str))


#: The worker's entry (`gitops_tune.workers`: ``sys.argv`` is the module, then the caller's
#: ``sys.path``). The ``gitops_tune.dataset`` package goes in as an empty module with the
#: package's folder as its path, without running its ``__init__`` (whose re-exports import
#: this module, the cache's writer and the rest: a third of a worker's start-up) or loading
#: ``importlib.util`` (a tenth); the worker's modules import only its submodules.
WORKER_CODE = (
    """import sys, os
sys.path[:] = sys.argv[2:]
import gitops_tune
package = type(sys)("gitops_tune.dataset")
package.__path__ = [os.path.join(os.path.dirname(gitops_tune.__file__), "dataset")]
sys.modules["gitops_tune.dataset"] = package
from gitops_tune.dataset.worker import main
main()
"""
    + workers.END
)


def _start() -> workers.Helper | None:
    """A worker: forked where that is safe (`workers.fork`), else started; None if neither
    can be had."""
    try:
        forked = workers.fork(serve) if FORK else None
        return forked or workers.start("gitops_tune.dataset.worker", WORKER_CODE)
    except OSError:
        return None
