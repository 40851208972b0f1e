"""The fingerprint cache is keyed by content: it survives a fresh clone (a CI cache restored
into a new checkout), and a wrong entry can never change a result: a changed byte, a changed
setting and a truncated or corrupted cache file each lead to a fresh scan. Also: `Scans`, which
scans a batch of files in worker processes, gives exactly what one scan at a time gives."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from gitops_tune import dataset as ds
from gitops_tune import workers
from gitops_tune.dataset import Scan, ScanCache, ScanJob, Scans, batch, file_source
from gitops_tune.dataset import cache as cache_module
from gitops_tune.dataset.cache_files import read_records
from gitops_tune.dataset.digests import file_digest
from gitops_tune.dataset.worker import READY
from tests.dataset.test_cache import BASE, HP, Reads, backdate, rows, tamper, write


def scan_in(data: Path, cache: Path, **settings: object) -> Scan:
    preamble = str(settings.pop("preamble", ""))
    fields = {k: str(v) for k, v in settings.items() if k.endswith("_field")}
    base = str(settings.get("base_model", BASE))
    hp = settings.get("hp", HP)
    assert isinstance(hp, dict)
    source = file_source(str(data), data.name, preamble=preamble, **fields)
    return ds.scan(source, base, hp, ScanCache(cache))


def clone(tmp_path: Path, data: Path, name: str = "clone") -> Path:
    """The data file in a new checkout: new path, new inode, new mtime."""
    target = tmp_path / name / data.name
    target.parent.mkdir()
    target.write_bytes(data.read_bytes())
    backdate(target, 30)
    return target


def test_a_fresh_clone_with_the_restored_cache_parses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    first = scan_in(data, tmp_path / "ci")
    copy = clone(tmp_path, data)
    restored = tmp_path / "restored"
    shutil.copytree(tmp_path / "ci", restored)
    reads = Reads(monkeypatch)
    assert scan_in(copy, restored) == first
    assert reads.count == 0
    # and the clone's path is remembered: the next run does not even hash it
    assert len(read_records(restored / "paths.json")) == 2


def test_a_changed_byte_is_a_fresh_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    first = scan_in(data, tmp_path / "ci")
    copy = clone(tmp_path, data)
    copy.write_bytes(copy.read_bytes().replace(b"answer 7", b"answer 8", 1))  # same size
    backdate(copy, 30)
    reads = Reads(monkeypatch)
    second = scan_in(copy, tmp_path / "ci")
    assert reads.count == 1
    assert second.fingerprint != first.fingerprint


@pytest.mark.parametrize(
    "setting",
    [
        {"preamble": "Q: "},
        {"base_model": "models/gemini-1.0-pro-001"},
        {"hp": {"epochCount": 3, "batchSize": 4}},
        {"hp": {"epochCount": 2, "batchSize": 4, "learningRate": 0.002}},
        {"input_field": "output", "output_field": "text_input"},
    ],
)
def test_a_changed_setting_is_a_fresh_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: dict[str, object]
) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    first = scan_in(data, tmp_path / "ci")
    copy = clone(tmp_path, data)
    reads = Reads(monkeypatch)
    second = scan_in(copy, tmp_path / "ci", **setting)
    assert reads.count == 1
    assert second.fingerprint != first.fingerprint
    assert scan_in(copy, tmp_path / "ci", **setting) == second
    assert reads.count == 1  # each setting has its own entry


@pytest.mark.parametrize("damage", ["truncated", "count", "fingerprint", "key", "digest"])
def test_a_damaged_cache_file_is_a_fresh_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    cache = tmp_path / "ci"
    first = scan_in(data, cache)
    index, content = cache / "paths.json", cache / "contents.json"
    if damage == "truncated":
        for target in (content, index):
            target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    else:  # well-formed JSON with one value changed: only the checksum tells
        target = index if damage == "digest" else content
        records = read_records(target)
        ((key, record),) = records.items()
        if damage == "key":
            records = {key.replace(cache_module.CACHE_FORMAT, "gitops-tune/scan-cache/v9"): record}
        else:
            record[damage] = {"count": 31, "fingerprint": "0" * 64, "digest": "1" * 64}[damage]
        tamper(target, records)
        if damage != "digest":  # the path record answers first: drop it, so that the
            index.unlink()  # content entry is asked
    reads = Reads(monkeypatch)
    assert scan_in(data, cache) == first
    assert reads.count == (0 if damage == "digest" else 1)  # a bad path entry: hashed again
    assert scan_in(data, cache) == first
    assert reads.count == (0 if damage == "digest" else 1)  # and the entry was rewritten


# --- Scans: a batch, the unknown files in worker processes ---------------------------------


def _tree(tmp_path: Path) -> list[ScanJob]:
    jobs = []
    for i in range(6):
        path = write(tmp_path / f"d{i}.jsonl", rows(40 + i, tag=f"{i}-"))
        if i == 3:  # one with problems: its diagnostics must come back exactly
            path.write_text(path.read_text() + "{broken\n" + '{"text_input": 5}\n')
            backdate(path)
        source = file_source(str(path), f"data/d{i}.jsonl", preamble="Q: " if i % 2 else "")
        job = ScanJob.of(source, BASE, HP)
        assert job is not None
        jobs.append(job)
    return jobs


def _forks(monkeypatch: pytest.MonkeyPatch, fork: bool) -> list[object]:
    """Workers forked (``fork``) or started, and the list of the forked ones."""
    monkeypatch.setattr(batch, "FORK", fork)
    forked: list[object] = []
    real = workers.fork

    def counted(main: Callable[[IO[bytes], IO[bytes]], None]) -> workers.Forked | None:
        found = real(main)
        forked.append(found)
        return found

    monkeypatch.setattr(workers, "fork", counted)
    return forked


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "started"])
@pytest.mark.parametrize("cached", [False, True])
def test_scans_in_worker_processes_match_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool, fork: bool
) -> None:
    jobs = _tree(tmp_path)
    expected = [ds.scan(j.source(), BASE, HP, None) for j in jobs]
    assert expected[3].errors and all(not e.errors for i, e in enumerate(expected) if i != 3)
    monkeypatch.setattr(batch, "PARALLEL_MIN_BYTES", 0)
    forked = _forks(monkeypatch, fork)
    assert threading.active_count() == 1, threading.enumerate()  # else no fork is safe
    cache = ScanCache(tmp_path / "cache") if cached else None
    scans = Scans(cache, workers=2)
    scans.prefetch(jobs + jobs[:2])  # duplicates are scanned once
    reads = Reads(monkeypatch)
    assert [scans.scan(j.source(), BASE, HP) for j in jobs] == expected
    assert reads.count == 0  # every one was done ahead
    assert len(forked) == fork and all(isinstance(f, workers.Forked) for f in forked)
    if cache is not None:  # the clean ones were remembered by the calling process
        assert len(read_records(cache.contents)) == 5
        again = Scans(cache, workers=2)
        again.prefetch(jobs)
        assert [again.scan(j.source(), BASE, HP) for j in jobs] == expected


def _parallel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[ScanJob], list[Scan]]:
    """The jobs of `_tree`, their scans one at a time, and workers for any size."""
    jobs = _tree(tmp_path)
    monkeypatch.setattr(batch, "PARALLEL_MIN_BYTES", 0)
    return jobs, [ds.scan(j.source(), BASE, HP, None) for j in jobs]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_first_run_keys_its_entries_by_the_digests_its_scans_took(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """No content entry yet: the files are parsed at once and hashed as they are read (no
    hashing pass first), and the entries are keyed by the digests of their bytes, so that a
    fresh clone with the restored cache parses nothing."""
    jobs, expected = _parallel(tmp_path, monkeypatch)
    cache = ScanCache(tmp_path / "cache")
    digests: list[str] = []
    monkeypatch.setattr(batch, "hash_probe", lambda *a: digests.append("asked"))
    Scans(cache, workers=workers).prefetch(jobs)
    assert not digests
    keys = {json.loads(key)[1] for key in read_records(cache.contents)}
    assert keys == {file_digest(j.path) for i, j in enumerate(jobs) if i != 3}
    monkeypatch.undo()
    cache.index.unlink()  # a fresh clone: every file is hashed, the clean ones are found
    reads = Reads(monkeypatch)
    again = Scans(cache, workers=1)
    again.prefetch(jobs)
    assert reads.count == 1  # the one with problems
    assert [again.scan(j.source(), BASE, HP) for j in jobs] == expected


def test_the_workers_take_chunks_and_the_caller_does_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs, expected = _parallel(tmp_path, monkeypatch)
    monkeypatch.setattr(batch, "MIN_CHUNK_BYTES", 1)  # small chunks: a job or two here
    here: list[str] = []
    real = ScanJob.answer

    def slow(
        job: ScanJob, hashed: bool
    ) -> tuple[Scan, str | None]:  # here only: the worker gets some
        here.append(job.path)
        time.sleep(0.5)
        return real(job, hashed)

    monkeypatch.setattr(ScanJob, "answer", slow)
    scans = Scans(ScanCache(tmp_path / "cache"), workers=2)
    scans.prefetch(jobs)
    assert [scans.scan(j.source(), BASE, HP) for j in jobs] == expected
    assert 0 < len(here) < len(jobs)


def test_the_workers_split_what_is_queued_until_the_queue_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Open (the caller still queueing, parsing nothing): a worker takes its helpers' share of
    all that is queued. Closed: guided scheduling, a share of what is left for every process."""
    monkeypatch.setattr(batch, "PARALLEL_MIN_BYTES", 1 << 60)  # no worker started here
    pool = batch.Pool(workers=3, ledger=None)  # two helpers and the caller
    size = 10 << 20
    for i in range(12):
        pool.add(ScanJob(f"d{i}.jsonl", f"d{i}.jsonl", "text_input", "output", "", BASE, ()), size)
    assert len(pool.take() or []) == 6  # half of the queue: one of two helpers
    with pool.ready:
        pool.closed = True
    left = 6 * size
    share = left // (batch.SHARES * 3)  # 10 MiB: one job is enough
    assert share <= size and len(pool.take() or []) == 1
    taken = [len(pool.take() or []) for _ in range(6)]
    assert taken == [1, 1, 1, 1, 1, 0]


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "started"])
def test_a_worker_that_fails_leaves_its_chunks_to_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    jobs, expected = _parallel(tmp_path, monkeypatch)
    forked = _forks(monkeypatch, fork)
    dies = "import sys; sys.stdout.buffer.write(b'\\n'); sys.stdout.buffer.flush(); sys.exit(3)"
    monkeypatch.setattr(batch, "WORKER_CODE", dies)  # says it started, answers no chunk

    def forked_dies(stdin: IO[bytes], stdout: IO[bytes]) -> None:
        stdout.write(READY)
        stdout.flush()
        raise SystemExit(3)

    monkeypatch.setattr(batch, "serve", forked_dies)
    scans = Scans(ScanCache(tmp_path / "cache"), workers=3)
    scans.prefetch(jobs)
    assert len(forked) == 2 * fork
    reads = Reads(monkeypatch)
    assert [scans.scan(j.source(), BASE, HP) for j in jobs] == expected
    assert reads.count == 0


def test_no_fork_while_another_thread_runs() -> None:
    """A lock another thread holds would stay held in the child: the worker is started."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert workers.fork(lambda i, o: None) is None
    finally:
        stop.set()
        other.join()


def test_a_fork_that_fails_leaves_no_pipe_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker is then started instead (`batch._start`), and nothing is left open."""

    def no_fork() -> int:
        raise BlockingIOError("no more processes")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", no_fork)
    assert workers.fork(lambda i, o: None) is None
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_forked_worker_keeps_no_other_file_of_its_parent_open() -> None:
    """A pipe's write end the child kept would keep its reader from ever seeing the end."""

    def echo(stdin: IO[bytes], stdout: IO[bytes]) -> None:
        stdout.write(stdin.read())
        stdout.flush()

    r, w = os.pipe()
    writers = [w, os.dup2(w, 900)]  # below the child's own pipes and above them
    try:
        child = workers.fork(echo)
        assert child is not None and child.stdin is not None and child.stdout is not None
        while writers:
            os.close(writers.pop())
        assert select.select([r], [], [], 10)[0] == [r] and os.read(r, 1) == b""
        child.stdin.write(b"echo")
        child.stdin.close()
        assert child.stdout.read() == b"echo" and child.wait(timeout=10) == 0
    finally:
        os.close(r)
        for fd in writers:
            os.close(fd)


def test_the_cache_files_keep_what_this_run_used_and_the_most_recent_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module.PathIndex, "KEEP_UNUSED", 2)
    monkeypatch.setattr(cache_module.ContentIndex, "KEEP_UNUSED", 2)
    cache = tmp_path / "cache"
    files = [write(tmp_path / f"d{i}.jsonl", rows(20, tag=f"{i}-")) for i in range(6)]
    for data in files:  # one run each: the entries of d0 and d1 are the oldest
        scan_in(data, cache)
    assert len(read_records(cache / "contents.json")) == 3  # d3, d4 and d5
    reads = Reads(monkeypatch)
    scan_in(files[5], cache)
    assert reads.count == 0
    scan_in(files[0], cache)
    assert reads.count == 1


def test_a_worker_starts_with_no_more_than_a_scan_needs() -> None:
    """Not the package's face (which imports the batch, the cache's writer, ...), not the
    cache (a worker has none), not ``importlib.util`` and not msgspec (tier 1, loaded when a
    block first needs it): half of a worker's start-up."""
    shown = "import json\nprint(json.dumps(sorted(sys.modules)))\n"
    code = batch.WORKER_CODE.replace("main()\n", shown)
    assert code != batch.WORKER_CODE
    home = str(Path(batch.__file__).resolve().parents[2])
    argv = [sys.executable, "-S", "-c", code, home, *sys.path]
    loaded = json.loads(subprocess.run(argv, capture_output=True, check=True).stdout)
    assert "gitops_tune.dataset.worker" in loaded
    unneeded = {"gitops_tune.dataset.batch", "msgspec", "gitops_tune.dataset.cache"}
    assert unneeded.isdisjoint(loaded) and "importlib.util" not in loaded
