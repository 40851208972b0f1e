"""The fingerprint cache: a data file that has not changed is not read again.

A clean scan of a data file (no errors) is remembered in a `ScanCache` directory, one small
JSON file per (file, reading settings):

- the entry's name hashes everything the result depends on besides the file's bytes: the cache
  and fingerprint format versions, the resolved path, the reader (from the suffix), the input
  and output fields, the preamble, the base model and the canonical hyperparameters;
- the entry holds that key in full, the file's ``stat`` (size, mtime_ns, inode, device,
  ctime_ns) and what the scan found: example count, request size and fingerprint.

A lookup is a hit only when the key and the whole ``stat`` match; any change to the file
(content, size, mtime, a replacement with another inode) is a miss and the file is read again.
Warnings are not stored: `dataset.limits` recomputes them from the count and size. A scan with
errors is never stored, so its diagnostics always come from a real read.

Safety: entries are written atomically (a temp file, then ``os.replace``), so a concurrent
reader sees an old entry, a new one, or none; an entry that is unreadable, corrupt or of
another shape is ignored and overwritten. A file modified less than `RACY_SECONDS` before the
scan began is not stored: on a coarse-clock file system a second write in the same tick could
otherwise keep size and mtime (Git's "racy clean" problem). `DesiredModel.examples()` re-reads
and verifies the fingerprint at create time regardless.

This module reads no environment: the settings resolve the cache's folder (or turn it off)
and the caller hands it over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_tune.dataset.fingerprints import FINGERPRINT_FORMAT, canonical_hyperparameters
from gitops_tune.dataset.records import Scan, Source

CACHE_FORMAT = "gitops-tune/scan-cache/v1"
RACY_SECONDS = 2.0

ScanFunction = Callable[[Source, str, Mapping[str, object]], Scan]


@dataclass(frozen=True)
class ScanCache:
    """Where clean scans are remembered (``.gitops-tune/fingerprints/`` by default)."""

    directory: Path

    def entry(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.json"


def _stat(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev, st.st_ctime_ns]


def _key(source: Source, real: str, base_model: str, hp: Mapping[str, object]) -> str:
    return json.dumps(
        [
            CACHE_FORMAT,
            FINGERPRINT_FORMAT,
            real,
            source.kind,
            source.input_field,
            source.output_field,
            source.preamble,
            base_model,
            canonical_hyperparameters(hp),
        ],
        sort_keys=True,
        ensure_ascii=True,
        separators=(",", ":"),
    )


def _lookup(entry: Path, key: str, stat: list[int]) -> Scan | None:
    try:
        data: Any = json.loads(entry.read_bytes())
        count, size, fingerprint = data["count"], data["size"], data["fingerprint"]
        if (
            data["key"] == key
            and data["stat"] == stat
            and type(count) is int
            and type(size) is int
            and isinstance(fingerprint, str)
            and len(fingerprint) == 64
        ):
            return Scan(count, size, fingerprint, ())
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing, unreadable, corrupt or another shape: a miss
    return None


def _store(entry: Path, key: str, stat: list[int], result: Scan) -> None:
    record = {
        "key": key,
        "stat": stat,
        "count": result.count,
        "size": result.size,
        "fingerprint": result.fingerprint,
    }
    tmp = entry.with_name(f".{entry.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(record, sort_keys=True))
        os.replace(tmp, entry)
    except OSError:  # a read-only tree or a full disk: the cache is only an optimisation
        with contextlib.suppress(OSError):
            tmp.unlink()


def cached_scan(
    cache: ScanCache,
    source: Source,
    path: str,
    base_model: str,
    hyperparameters: Mapping[str, object],
    scan: ScanFunction,
) -> Scan:
    """``scan(source, base_model, hyperparameters)``, or its remembered result when ``path``
    has not changed since a clean scan with the same settings."""
    try:
        real = os.path.realpath(path)
        before = os.stat(real)
    except OSError:
        return scan(source, base_model, hyperparameters)  # let the reader say what is wrong
    key = _key(source, real, base_model, hyperparameters)
    entry = cache.entry(key)
    stat = _stat(before)
    hit = _lookup(entry, key, stat)
    if hit is not None:
        return hit
    started_ns = time.time_ns()
    result = scan(source, base_model, hyperparameters)
    if result.errors or before.st_mtime_ns > started_ns - int(RACY_SECONDS * 1e9):
        return result
    try:
        after = _stat(os.stat(real))
    except OSError:
        return result
    if after == stat:  # unchanged while it was read
        _store(entry, key, stat, result)
    return result
