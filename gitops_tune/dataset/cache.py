"""The fingerprint cache: a data file whose bytes were scanned before is not parsed again.

A clean scan of a data file (no errors) is remembered in a `ScanCache` directory, keyed by
**content**, so that the cache survives a fresh clone (new paths, inodes and mtimes) and a CI
system can keep the directory between runs:

- a *content entry* (one record of ``<directory>/contents.json``) is kept under a key made
  of the cache and fingerprint format versions, the hash of the file's raw bytes (BLAKE3:
  `gitops_tune.dataset.digests`), the reader (from the suffix), the input and output
  fields, the preamble, the base model and the canonical hyperparameters: everything the
  result depends on. It holds what the scan found (example count, request size,
  fingerprint);
- a *path entry* (one record of ``<directory>/paths.json``) is kept under the resolved path
  and the same settings; it holds the ``stat`` (size, mtime_ns, inode, device, ctime_ns) the
  file had when its bytes were hashed, their digest and the result. On the machine that wrote
  it, a file whose ``stat`` is unchanged is therefore not even opened; anywhere else (a fresh
  clone) the path entry misses and the file is hashed, which costs about what reading it
  costs, and the content entry answers.

Each file is read once and written once a run (creating a file per data file would cost more
than parsing a small one); it keeps the records this run used and the most recent others.

A lookup is a hit only when its file's checksum matches (`cache_files`) and an entry is
there under exactly the key asked for, whole; anything else (missing, truncated, corrupt,
edited, another format) is a miss, the data file is read again and the entry rewritten.
Warnings are not stored: `dataset.limits` recomputes them from the count and size. A scan
with errors is never stored, so its diagnostics always come from a real read.

Safety: the files are written atomically (a temp file, then ``os.replace``), so a concurrent
reader sees an old file or a new one, and of two runs writing at once the last one's records
stay (the other's are scanned again next time). A result is stored under a digest only when the
file's ``stat`` did not change between hashing it and the end of the scan, and the file was
modified at least `RACY_SECONDS` before it was hashed: on a coarse-clock file system a second
write in the same tick could otherwise keep size and mtime (Git's "racy clean" problem).
`DesiredModel.examples()` re-reads and verifies the fingerprint at create time regardless.

This module reads no environment: the settings resolve the cache's folder (or turn it off)
and the caller hands it over.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring_ascii as json_string
from typing import NamedTuple

from gitops_tune.dataset.cache_files import ContentIndex as ContentIndex
from gitops_tune.dataset.cache_files import PathIndex as PathIndex
from gitops_tune.dataset.cache_files import ScanCache as ScanCache
from gitops_tune.dataset.digests import file_digest
from gitops_tune.dataset.fingerprints import (
    FINGERPRINT_FORMAT,
    TypedItems,
    canonical_hyperparameters,
    per_model,
)
from gitops_tune.dataset.readers import RealPaths
from gitops_tune.dataset.records import Scan, Source

CACHE_FORMAT = "gitops-tune/scan-cache/v5"
RACY_SECONDS = 2.0

ScanFunction = Callable[[Source, str, Mapping[str, object]], Scan]


class Probe(NamedTuple):
    """What the cache knows of one data file before it is parsed."""

    real: str  # the resolved path
    stat: list[int]  # before it was hashed
    hashed_ns: int  # when hashing began (the racy check)
    digest: str  # the content hash of the file's bytes (`digests`)
    hashed: bool  # the digest was computed now (not known from the path entry)
    path_key: str  # the path entry's key: the resolved path and every setting
    key: str  # the content entry's key: the digest and every setting ("" if not hashed)
    hit: Scan | None

    @property
    def racy(self) -> bool:
        """Modified so shortly before it was hashed that a same-tick rewrite could hide."""
        return self.stat[1] > self.hashed_ns - int(RACY_SECONDS * 1e9)


def _stat(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev, st.st_ctime_ns]


def _settings(source: Source, base_model: str, hp: Mapping[str, object]) -> str:
    """Everything besides the bytes that the result depends on, as a canonical JSON list
    (the same for every file of a model: computed once)."""
    fixed = (source.kind, source.input_field, source.output_field, source.preamble, base_model)
    return per_model(_settings_of, fixed, hp)


@functools.lru_cache(maxsize=256)
def _settings_of(fixed: tuple[str, ...], hp: TypedItems) -> str:
    values = {k: v for k, _, v in hp}
    return _canonical([CACHE_FORMAT, FINGERPRINT_FORMAT, *fixed, canonical_hyperparameters(values)])


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def _key(kind: str, name: str, settings: str) -> str:
    """``_canonical([kind, name, *settings])`` for the canonical JSON list ``settings`` (a
    string's canonical JSON is its ASCII-escaped form: two keys a data file, no encoder each)."""
    return f"[{json_string(kind)},{json_string(name)},{settings[1:]}"


class Located(NamedTuple):
    """A data file found and its ``stat`` taken, before it is hashed (by the calling
    process before parsing, or by whoever parses it on a first run: `hashed`)."""

    real: str  # the resolved path
    stat: list[int]
    hashed_ns: int  # taken just after the stat: hashing starts later (the racy check)
    path_key: str  # the path entry's key: the resolved path and every setting
    settings: str  # everything besides the bytes that the result depends on (`_settings`)


def locate(
    source: Source,
    path: str,
    base_model: str,
    hp: Mapping[str, object],
    realpaths: RealPaths | None = None,
) -> Located | None:
    """The file's resolved path and ``stat``; None when it cannot be had (the reader says
    why). ``realpaths`` keeps the resolved folders of a batch of files (each resolved once)."""
    settings = _settings(source, base_model, hp)
    try:
        real, st = (realpaths or RealPaths()).stat(path)
        assert st is not None
    except OSError:
        return None
    return Located(real, _stat(st), time.time_ns(), _key("path", real, settings), settings)


def recall(index: PathIndex, where: Located) -> Probe | None:
    """The path entry's answer, if the file's ``stat`` is unchanged since it was written."""
    known = index.get(where.path_key, where.stat)
    if known is None:
        return None
    digest, hit = known
    return Probe(where.real, where.stat, where.hashed_ns, digest, False, where.path_key, "", hit)


def hash_probe(contents: ContentIndex, where: Located) -> Probe | None:
    """Hash the file's bytes and look for a content entry; None if it cannot be read."""
    try:
        digest = file_digest(where.real)
    except OSError:
        return None
    found = hashed(where, digest)
    return found._replace(hit=contents.get(found.key))


def hashed(where: Located, digest: str) -> Probe:
    """The probe of a file whose bytes hash to ``digest`` (hashed after ``where`` was taken),
    with no content entry: a first run, whose workers hash the files as they parse them."""
    key = _key("content", digest, where.settings)
    return Probe(where.real, where.stat, where.hashed_ns, digest, True, where.path_key, key, None)


def probe(
    contents: ContentIndex,
    index: PathIndex,
    source: Source,
    path: str,
    base_model: str,
    hp: Mapping[str, object],
) -> Probe | None:
    """The file's content key and, if a clean scan of these bytes with these settings was
    remembered, its result. None when the file cannot be read: the reader says why."""
    where = locate(source, path, base_model, hp)
    if where is None:
        return None
    return recall(index, where) or hash_probe(contents, where)


def _unchanged(found: Probe) -> bool:
    """Not racy, and the same ``stat`` now as before hashing: the bytes hashed are the bytes
    read since."""
    if found.racy:
        return False
    try:
        return _stat(os.stat(found.real)) == found.stat
    except OSError:
        return False


def _note_path(index: PathIndex, found: Probe, result: Scan, unchanged: bool = False) -> None:
    """Remember, for this path and these settings, the digest of its bytes and the result
    for as long as its ``stat`` holds (``unchanged``: `_unchanged` was found true just now)."""
    if found.hashed and (unchanged or _unchanged(found)):
        body = _body(result) | {"stat": found.stat, "digest": found.digest}
        index.put(found.path_key, body)


def _body(result: Scan) -> dict[str, object]:
    return {
        "count": result.count,
        "size": result.size,
        "fingerprint": result.fingerprint,
    }


def note_hit(index: PathIndex, found: Probe) -> Scan | None:
    """``found.hit``, its path entry noted if the file had to be hashed to find it."""
    if found.hit is not None:
        _note_path(index, found, found.hit)
    return found.hit


def remember(index: PathIndex, contents: ContentIndex, found: Probe, result: Scan) -> None:
    """Store a fresh scan's ``result`` under ``found``'s keys when that is safe (see the
    module docstring): no errors, the file unchanged since it was hashed, and not racy. A
    scan with chat rows is not stored: its media and longest examples are not kept here."""
    if result.errors or result.chats or not found.hashed or not _unchanged(found):
        return
    contents.put(found.key, _body(result))
    _note_path(index, found, result, unchanged=True)


def settle(index: PathIndex, contents: ContentIndex, found: Probe, result: Scan) -> None:
    """Note what ``found`` led to: a content entry's hit (`note_hit`) or a fresh scan
    (`remember`)."""
    if found.hit is not None:
        note_hit(index, found)
    else:
        remember(index, contents, found, result)


def cached_scan(
    cache: ScanCache,
    source: Source,
    path: str,
    base_model: str,
    hyperparameters: Mapping[str, object],
    scan: ScanFunction,
) -> Scan:
    """``scan(source, base_model, hyperparameters)``, or its remembered result when the
    bytes of ``path`` were cleanly scanned before with the same settings."""
    index, contents = PathIndex(cache), ContentIndex(cache)
    found = probe(contents, index, source, path, base_model, hyperparameters)
    if found is None:
        return scan(source, base_model, hyperparameters)  # let the reader say what is wrong
    result = found.hit
    if result is None:
        result = scan(source, base_model, hyperparameters)
    settle(index, contents, found, result)
    index.save()
    contents.save()
    return result
