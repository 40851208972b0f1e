"""The fingerprint cache's two files (`gitops_tune.dataset.cache` says what they hold): each
read once and written once a run, atomically, its records checked on reading."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
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
    `KEEP_UNUSED` others, the most recently written."""

    KEEP_UNUSED = 5000

    def __init__(self, file: Path) -> None:
        self.file = file
        self._changed = False
        self._used: set[str] = set()
        self._lock = threading.Lock()
        try:
            data = json.loads(self.file.read_bytes())
        except (OSError, ValueError):
            data = {}
        self._records: dict[str, Any] = data if type(data) is dict else {}

    def record(self, key: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
        """The record of ``key`` if it is whole (its checksum matches)."""
        name = _sha256(key)
        found = _checked(self._records.get(name), fields)
        if found is not None:
            with self._lock:
                self._used.add(name)
        return found

    def put(self, key: str, body: Mapping[str, object]) -> None:
        name = _sha256(key)
        with self._lock:
            self._records.pop(name, None)  # the most recent last
            self._records[name] = {**body, "check": _sha256(canonical(body))}
            self._used.add(name)
            self._changed = True

    def __len__(self) -> int:
        return len(self._records)

    def save(self) -> None:
        if not self._changed:
            return
        unused = [name for name in self._records if name not in self._used]
        for name in unused[: max(0, len(unused) - self.KEEP_UNUSED)]:
            del self._records[name]
        _write_file(self.file, self._records)
        self._changed = False


class PathIndex(_Records):
    """The path entries (`ScanCache.index`)."""

    def __init__(self, cache: ScanCache) -> None:
        super().__init__(cache.index)

    def get(self, key: str, stat: list[int]) -> tuple[str, Scan] | None:
        """(digest, result) for this path and these settings, if the ``stat`` is unchanged."""
        data = self.record(key, _PATH_FIELDS)
        result = _result(data, key)
        if data is None or result is None or data["stat"] != stat:
            return None
        digest = data["digest"]
        return (digest, result) if isinstance(digest, str) and len(digest) == 64 else None


class ContentIndex(_Records):
    """The content entries (`ScanCache.contents`)."""

    def __init__(self, cache: ScanCache) -> None:
        super().__init__(cache.contents)

    def get(self, key: str) -> Scan | None:
        return _result(self.record(key, _FIELDS), key)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def canonical(value: object) -> str:
    """``json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))``, by
    one encoder made once (`json.dumps` makes one a call: half the time of a record's check,
    and a first run checks two records a data file)."""
    return "".join(_encode(value, 0))


def _not_json(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON")


if c_make_encoder is not None:  # CPython's; markers=None: no cycle check (our own records)
    _encode = c_make_encoder(
        None, _not_json, encode_basestring_ascii, None, ":", ",", True, False, True
    )
else:  # pragma: no cover
    _encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).iterencode


def _checked(data: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """``data``'s ``fields`` if it has them all and its checksum matches them."""
    if type(data) is not dict or not all(name in data for name in fields):
        return None
    body = {name: data[name] for name in fields}
    try:
        return body if data.get("check") == _sha256(canonical(body)) else None
    except (TypeError, ValueError):
        return None


def _write_file(entry: Path, record: Mapping[str, object]) -> None:
    tmp = entry.with_name(f".{entry.stem}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    text = json.dumps(record)  # in order: the most recent records last
    try:
        try:
            tmp.write_text(text)
        except FileNotFoundError:  # the first entry: make the folder (not tried each time)
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text)
        os.replace(tmp, entry)
    except OSError:  # a read-only tree or a full disk: the cache is only an optimisation
        with contextlib.suppress(OSError):
            tmp.unlink()


_FIELDS = ("key", "count", "size", "fingerprint")
_PATH_FIELDS = (*_FIELDS, "stat", "digest")


def _result(data: Mapping[str, Any] | None, key: str) -> Scan | None:
    if data is None or data["key"] != key:
        return None
    count, size, fingerprint = data["count"], data["size"], data["fingerprint"]
    if type(count) is not int or type(size) is not int or not isinstance(fingerprint, str):
        return None
    return Scan(count, size, fingerprint, ()) if len(fingerprint) == 64 else None
