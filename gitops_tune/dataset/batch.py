"""Scanning many data files at once: the files the cache does not know are hashed and parsed
on every core, so that a first run (a fresh clone with no cache) uses them all.

The calling process answers what the path index knows (a ``stat``, no reading) and hands the
rest out in chunks, largest files first, from one queue: it takes chunks itself and so does
each of ``workers - 1`` worker processes. Parsing is CPU-bound Python, so the workers are
processes: fresh interpreters running `gitops_tune.dataset.worker` (not ``multiprocessing``,
which would fork a process that may have threads running, the plan's early list request, or
re-import the caller's main module), started without ``site`` and fed over a pipe. A worker
runs the very `ScanJob.outcome` the calling process runs: hash, content entry, scan (its
`Scan`, diagnostics and all, is exactly what the calling process would have made); the calling
process stores what was found and writes the cache's files once. A worker takes its first
chunk once it has started (says so), so one that starts late takes fewer and makes nobody
wait; one that fails leaves its chunk to the calling process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

import gitops_tune
from gitops_tune.dataset.cache import (
    ContentIndex,
    Located,
    PathIndex,
    ScanCache,
    locate,
    recall,
    settle,
)
from gitops_tune.dataset.records import Scan, Source
from gitops_tune.dataset.scanner import scan
from gitops_tune.dataset.worker import READY, Outcome, ScanJob

#: Below this many bytes still to read, a worker process (about 0.1 s of a core to start: an
#: interpreter and the scanner) costs more than it saves.
PARALLEL_MIN_BYTES = 16 << 20
#: Chunks per process: enough that a late or slow worker leaves little to wait for.
CHUNKS_PER_PROCESS = 8

Task = tuple[ScanJob, Located | None]


class Scans:
    """Scan results worked out ahead of time for a batch of jobs, in parallel."""

    def __init__(self, cache: ScanCache | None, workers: int) -> None:
        self.cache, self.workers = cache, max(1, workers)
        self._done: dict[ScanJob, Scan] = {}

    def prefetch(self, jobs: Iterable[ScanJob]) -> None:
        """Scan every job not yet done: path-index hits first, then the rest on every core
        (or here, when that is not worth it)."""
        todo = list(dict.fromkeys(j for j in jobs if j not in self._done))
        cache = self.cache
        index = PathIndex(cache) if cache is not None else None
        contents = ContentIndex(cache) if cache is not None else None
        tasks: list[Task] = []
        for job in todo:
            where = None
            if index is not None:
                hp = dict(job.hyperparameters)
                where = locate(job.source(), job.path, job.base_model, hp)
                known = recall(index, where) if where is not None else None
                if known is not None and known.hit is not None:
                    self._done[job] = known.hit
                    continue
            tasks.append((job, where))
        for (job, _), (found, result) in zip(tasks, self._run(tasks, contents), strict=True):
            self._done[job] = result
            if index is not None and contents is not None and found is not None:
                settle(index, contents, found, result)
        if index is not None and contents is not None:
            index.save()
            contents.save()

    def scan(self, source: Source, base_model: str, hp: Mapping[str, object]) -> Scan:
        """The prefetched result, or a scan now."""
        job = ScanJob.of(source, base_model, hp)
        done = self._done.get(job) if job is not None else None
        return done if done is not None else scan(source, base_model, hp, self.cache)

    def _run(self, tasks: Sequence[Task], contents: ContentIndex | None) -> list[Outcome]:
        """The outcomes of ``tasks``, in order, from this process and the workers."""
        sizes = [where.stat[0] if where is not None else _size(job.path) for job, where in tasks]
        total = sum(sizes)
        helpers = min(self.workers, len(tasks)) - 1
        if helpers < 1 or total < PARALLEL_MIN_BYTES or not sys.executable:
            return [job.outcome(contents, where) for job, where in tasks]
        queue = _chunks(sizes, total // ((helpers + 1) * CHUNKS_PER_PROCESS) + 1)
        results: list[Outcome | None] = [None] * len(tasks)
        pool = _Pool(self.cache, contents, tasks, queue, results)
        threads = [threading.Thread(target=pool.feed, daemon=True) for _ in range(helpers)]
        for thread in threads:
            thread.start()
        pool.here()
        for thread in threads:
            thread.join()
        pool.here()  # chunks a failed worker gave back
        return [
            r if r is not None else tasks[i][0].outcome(contents, tasks[i][1])
            for i, r in enumerate(results)
        ]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _chunks(sizes: Sequence[int], target: int) -> deque[list[int]]:
    """Task indexes in chunks of about ``target`` bytes, largest files first (so the last
    chunks are small ones, which even out the end)."""
    chunks: deque[list[int]] = deque()
    chunk: list[int] = []
    held = 0
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        chunk.append(i)
        held += sizes[i]
        if held >= target:
            chunks.append(chunk)
            chunk, held = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


class _Pool:
    """One queue of chunks, taken by this process (`here`) and by worker processes (`feed`,
    one thread each)."""

    def __init__(
        self,
        cache: ScanCache | None,
        contents: ContentIndex | None,
        tasks: Sequence[Task],
        queue: deque[list[int]],
        results: list[Outcome | None],
    ) -> None:
        self.cache, self.contents, self.tasks = cache, contents, tasks
        self.queue, self.results = queue, results
        self.lock = threading.Lock()

    def take(self) -> list[int] | None:
        with self.lock:
            return self.queue.popleft() if self.queue else None

    def here(self) -> None:
        while (chunk := self.take()) is not None:
            for i in chunk:
                job, where = self.tasks[i]
                self.results[i] = job.outcome(self.contents, where)

    def feed(self) -> None:
        """Start a worker and give it chunks until the queue is empty; a chunk it does not
        answer goes back to the queue (and this worker is done)."""
        try:
            proc = _start()
        except OSError:
            return
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None
        try:
            pickle.dump(self.cache, stdin)
            stdin.flush()
            if stdout.read(1) != READY:  # a chunk taken before the worker is up would wait
                return
            while (chunk := self.take()) is not None:
                if not self._send(stdin, stdout, chunk):
                    with self.lock:
                        self.queue.append(chunk)
                    break
        except (OSError, pickle.PickleError):
            pass
        finally:
            _stop(proc)

    def _send(self, stdin: IO[bytes], stdout: IO[bytes], chunk: list[int]) -> bool:
        try:
            pickle.dump([self.tasks[i] for i in chunk], stdin)
            stdin.flush()
            answers = pickle.load(stdout)
        except (OSError, EOFError, pickle.PickleError):
            return False
        if not isinstance(answers, list) or len(answers) != len(chunk):
            return False
        for i, answer in zip(chunk, answers, strict=True):
            if isinstance(answer, tuple) and isinstance(answer[1], Scan):
                self.results[i] = answer
        return True


#: The worker's entry: the caller's ``sys.path``, the folder this package is in first (an
#: editable install finds it by a ``site`` hook, which ``-S`` skips), then the worker loop.
WORKER_CODE = (
    "import sys\nsys.path[:] = sys.argv[1:]\nfrom gitops_tune.dataset.worker import main\nmain()\n"
)


def _start() -> subprocess.Popen[bytes]:
    home = str(Path(gitops_tune.__file__).resolve().parent.parent)
    argv = [sys.executable, "-S", "-c", WORKER_CODE, home, *sys.path]
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
