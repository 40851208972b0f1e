"""The fingerprint cache's two files (`gitops_tune.dataset.cache` says what they hold): each
read once and written once a run, atomically, checked on reading."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_tune.dataset.records import Scan


@dataclass(frozen=True)
class ScanCache:
    """Where clean scans are remembered (``.gitops-tune/fingerprints/`` by default)."""

    directory: Path

    @property
    def index(self) -> Path:
        return self.directory / "paths.json"

    @property
    def contents(self) -> Path:
        return self.directory / "contents.json"


class _Records:
    """The records of one cache file, read once and written back once if changed (one file
    rather than one per data file: creating a file costs up to a millisecond, more than
    parsing a small dataset). On writing, the records used in this run are kept, and at most
    `KEEP_UNUSED` others, the most recently written.

    The file is the sha256 of the rest (hex) on a line, then one JSON object, each record
    under its key: a file truncated, corrupt or edited fails the checksum and reads as empty,
    so every record in it is a miss (one checksum a file: one a record cost a first run a
    tenth of its calling process's time)."""

    KEEP_UNUSED = 5000

    def __init__(self, file: Path) -> None:
        self.file = file
        self._changed = False
        self._used: set[str] = set()
        self._lock = threading.Lock()
        self._records: dict[str, Any] = read_records(file)

    def record(self, key: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
        """The record of ``key``, if it has ``fields``."""
        found = self._records.get(key)
        if type(found) is not dict or not all(name in found for name in fields):
            return None
        with self._lock:
            self._used.add(key)
        return found

    def put(self, key: str, body: Mapping[str, object]) -> None:
        with self._lock:
            self._records.pop(key, None)  # the most recent last
            self._records[key] = dict(body)
            self._used.add(key)
            self._changed = True

    def __len__(self) -> int:
        return len(self._records)

    def save(self) -> None:
        if not self._changed:
            return
        unused = [key for key in self._records if key not in self._used]
        for key in unused[: max(0, len(unused) - self.KEEP_UNUSED)]:
            del self._records[key]
        _write_file(self.file, self._records)
        self._changed = False


class PathIndex(_Records):
    """The path entries (`ScanCache.index`)."""

    def __init__(self, cache: ScanCache) -> None:
        super().__init__(cache.index)

    def get(self, key: str, stat: list[int]) -> tuple[str, Scan] | None:
        """(digest, result) for this path and these settings, if the ``stat`` is unchanged."""
        data = self.record(key, _PATH_FIELDS)
        result = _result(data)
        if data is None or result is None or data["stat"] != stat:
            return None
        digest = data["digest"]
        return (digest, result) if isinstance(digest, str) and len(digest) == 64 else None


class ContentIndex(_Records):
    """The content entries (`ScanCache.contents`)."""

    def __init__(self, cache: ScanCache) -> None:
        super().__init__(cache.contents)

    def get(self, key: str) -> Scan | None:
        return _result(self.record(key, _FIELDS))


def read_records(file: Path) -> dict[str, Any]:
    """A cache file's records, key -> fields; empty if it is missing or fails its checksum."""
    try:
        check, _, text = file.read_bytes().partition(b"\n")
    except OSError:
        return {}
    if hashlib.sha256(text).hexdigest().encode() != check:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if type(data) is dict else {}


def _write_file(entry: Path, records: Mapping[str, object]) -> None:
    tmp = entry.with_name(f".{entry.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    text = json.dumps(records).encode()  # in order: the most recent records last
    data = hashlib.sha256(text).hexdigest().encode() + b"\n" + text
    try:
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:  # the first entry: make the folder (not tried each time)
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
        os.replace(tmp, entry)
    except OSError:  # a read-only tree or a full disk: the cache is only an optimisation
        with contextlib.suppress(OSError):
            tmp.unlink()


_FIELDS = ("count", "size", "fingerprint")
_PATH_FIELDS = (*_FIELDS, "stat", "digest")


def _result(data: Mapping[str, Any] | None) -> Scan | None:
    if data is None:
        return None
    count, size, fingerprint = data["count"], data["size"], data["fingerprint"]
    if type(count) is not int or type(size) is not int or not isinstance(fingerprint, str):
        return None
    return Scan(count, size, fingerprint, ()) if len(fingerprint) == 64 else None
