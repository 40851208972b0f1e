"""The fingerprint cache (`gitops_tune.dataset.cache`) and the fast JSONL scan behind it."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tune import dataset as ds
from gitops_tune.dataset import (
    FINGERPRINT_FORMAT,
    Scan,
    ScanCache,
    Source,
    canonical_hyperparameters,
    file_source,
    readers,
)
from gitops_tune.dataset import cache as cache_module
from gitops_tune.dataset.cache_files import read_records
from gitops_tune.dataset.digests import file_digest
from gitops_tune.dataset.readers import RealPaths
from gitops_tune.errors import UserError
from gitops_tune.settings import Invocation

HP = {"epochCount": 2, "batchSize": 4}
BASE = "models/gemini-1.5-flash-001-tuning"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("GITOPS_TUNE_HOME", str(folder))
    monkeypatch.delenv("GITOPS_TUNE_FINGERPRINT_CACHE", raising=False)
    return folder


def write(path: Path, rows: list[dict[str, str]], *, age_s: float = 60.0) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    backdate(path, age_s)
    return path


def backdate(path: Path, age_s: float = 60.0) -> None:
    """Older than the racy window, as any file not written in the last seconds is."""
    then = time.time_ns() - int(age_s * 1e9)
    os.utime(path, ns=(then, then))


def rows(n: int = 30, tag: str = "") -> list[dict[str, str]]:
    return [{"text_input": f"{tag}question {i}", "output": f"answer {i}"} for i in range(n)]


class Reads:
    """Counts real reads of one data file by the scan."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = readers.jsonl_blocks

        def counting(path: str) -> Iterator[tuple[int, bytes]]:
            self.count += 1
            return real(path)

        monkeypatch.setattr(readers, "jsonl_blocks", counting)


def do_scan(
    path: Path, preamble: str = "", hp: dict[str, object] | None = None, *, home: Path | None = None
) -> Scan:
    """A scan with the cache in ``home`` (by default the `home` fixture's folder, which is
    next to the data files)."""
    cache = ScanCache((home or path.parent / "home") / "fingerprints")
    return ds.scan(file_source(str(path), path.name, preamble=preamble), BASE, hp or HP, cache)


def test_unchanged_file_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    reads = Reads(monkeypatch)
    first = do_scan(data)
    assert reads.count == 1
    assert list((home / "fingerprints").glob("*.json"))
    second = do_scan(data)
    assert reads.count == 1  # served from the cache
    assert second == first
    assert (second.count, second.errors) == (30, ())


@pytest.mark.parametrize("change", ["content", "size", "mtime", "inode"])
def test_a_changed_file_is_always_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    first = do_scan(data)
    st = data.stat()
    if change == "content":  # same size, same mtime: only the ctime tells
        text = data.read_text().replace("answer 7", "answer 8", 1)
        data.write_text(text)
        os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "size":
        write(data, rows(31))
        os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "mtime":
        backdate(data, 30)
    else:  # replaced by another file (another inode) with the same bytes and times
        other = tmp_path / "other.jsonl"
        other.write_bytes(data.read_bytes().replace(b"answer 7", b"answer 8", 1))
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(other, data)
    reads = Reads(monkeypatch)
    second = do_scan(data)
    if change == "mtime":  # the same bytes: hashed again, but not parsed again
        assert (reads.count, second) == (0, first)
    else:
        assert reads.count == 1
        assert second.fingerprint != first.fingerprint


def test_settings_are_part_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    plain = do_scan(data)
    reads = Reads(monkeypatch)
    with_preamble = do_scan(data, preamble="Q: ")
    other_hp = do_scan(data, hp={"epochCount": 3, "batchSize": 4})
    assert reads.count == 2
    assert len({plain.fingerprint, with_preamble.fingerprint, other_hp.fingerprint}) == 3
    assert do_scan(data, preamble="Q: ") == with_preamble
    assert reads.count == 2
    # equal values, other JSON (1 == True): other keys
    assert do_scan(data, hp={"seed": 1}) != do_scan(data, hp={"seed": True})
    assert reads.count == 4


def test_the_content_key_is_blake3_of_the_raw_bytes(tmp_path: Path) -> None:
    """Another hash is another cache format: `CACHE_FORMAT` names it, so a change of the one
    without the other fails here. The worker's digest, taken while parsing, is the same."""
    import blake3

    data = write(tmp_path / "d.jsonl", rows())
    expected = blake3.blake3(data.read_bytes()).hexdigest()
    assert file_digest(str(data)) == expected
    assert cache_module.CACHE_FORMAT == "gitops-tune/scan-cache/v5"
    job = ds.ScanJob.of(ds.file_source(str(data), "d.jsonl"), BASE, HP)
    assert job is not None and job.answer(True)[1] == expected


def test_a_freshly_written_file_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write(tmp_path / "d.jsonl", rows(), age_s=0)
    do_scan(data)
    reads = Reads(monkeypatch)
    do_scan(data)
    assert reads.count == 1  # inside the racy window: a same-tick rewrite could hide


def test_errors_are_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows()) + "{not json\n")
    backdate(data)
    first = do_scan(data)
    assert first.errors
    reads = Reads(monkeypatch)
    assert do_scan(data) == first
    assert reads.count == 1


@pytest.mark.parametrize("junk", [b"", b"{", b"[]", b'{"key": 1}', b"\xff\xfe", b"null"])
def test_a_corrupt_entry_is_ignored_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path, junk: bytes
) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    first = do_scan(data)
    for entry in (home / "fingerprints").glob("**/*.json"):  # the content and path entries
        entry.write_bytes(junk)
    reads = Reads(monkeypatch)
    assert do_scan(data) == first
    assert reads.count == 1
    assert do_scan(data) == first
    assert reads.count == 1  # rewritten


def test_a_tampered_entry_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    first = do_scan(data)
    folder = home / "fingerprints"
    assert {p.name for p in folder.glob("*.json")} == {"paths.json", "contents.json"}
    for file in (folder / "contents.json", folder / "paths.json"):  # the path entry answers
        records = read_records(file)  # first: both are tampered with
        (record,) = records.values()
        record["fingerprint"] = "0" * 64  # still well-formed: the checksum tells
        tamper(file, records)
    reads = Reads(monkeypatch)
    assert do_scan(data) == first
    assert reads.count == 1


def tamper(file: Path, records: dict[str, Any]) -> None:
    """Write ``records`` into a cache file under its old checksum."""
    check = file.read_bytes().split(b"\n", 1)[0]
    assert read_records(file) and len(check) == 64
    file.write_bytes(check + b"\n" + json.dumps(records).encode())
    assert not read_records(file)


def test_unwritable_cache_is_harmless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    data = write(tmp_path / "d.jsonl", rows())
    assert do_scan(data, home=blocker).count == 30
    assert do_scan(data, home=blocker).count == 30


def test_no_cache_always_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    reads = Reads(monkeypatch)
    source = file_source(str(data), data.name)
    assert ds.scan(source, BASE, HP, None) == ds.scan(source, BASE, HP, cache=None)
    assert reads.count == 2
    assert not (home / "fingerprints").exists()


# --- the settings decide where the cache is, and whether there is one ----------------------


def test_settings_put_the_cache_under_gitops_tune_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    cache = Invocation(env={"GITOPS_TUNE_HOME": str(home)}).settle().scan_cache
    assert cache == ScanCache(home / "fingerprints")
    data = write(tmp_path / "d.jsonl", rows())
    reads = Reads(monkeypatch)
    first = ds.scan(file_source(str(data), data.name), BASE, HP, cache)
    assert ds.scan(file_source(str(data), data.name), BASE, HP, cache) == first
    assert reads.count == 1
    assert list((home / "fingerprints").glob("*.json"))


def test_can_be_turned_off() -> None:
    assert Invocation(env={"GITOPS_TUNE_FINGERPRINT_CACHE": "0"}).settle().scan_cache is None


def test_stream_still_rereads_and_verifies(tmp_path: Path) -> None:
    data = write(tmp_path / "d.jsonl", rows())
    first = do_scan(data)
    source = file_source(str(data), data.name)
    assert len(list(ds.stream(source, BASE, HP, first.fingerprint))) == 30
    text = data.read_text().replace("answer 7", "answer 8", 1)
    data.write_text(text)
    with pytest.raises(UserError, match="changed since it was validated"):
        list(ds.stream(source, BASE, HP, first.fingerprint))


# --- the fast JSONL path gives exactly what the line-by-line path gives ----------------------


def careful(path: Path, preamble: str) -> Scan:
    """The reference: the generic reader and row checks, line by line (no fast path)."""
    source = file_source(str(path), path.name, preamble=preamble)
    generic = Source(source.rows, source.display, preamble=preamble)
    return ds.scan(generic, BASE, HP, cache=None)


def fast(path: Path, preamble: str) -> Scan:
    return ds.scan(file_source(str(path), path.name, preamble=preamble), BASE, HP, cache=None)


_PIECES = [
    "plain words",
    'a "quoted" word',
    "back\\slash",
    "tab\there",
    "new\nline",
    "é ü 漢字 😀",
    "\u2028\u2029\x7f",
    "  ",
    "",
    "x" * 50,
]


def _random_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return ""
    if roll < 0.05:
        return "   "
    if roll < 0.07:
        return "{broken"
    if roll < 0.08:
        return '{"text_input": "\\ud800", "output": "lone surrogate"}'
    if roll < 0.09:
        return "[1, 2]"
    if roll < 0.10:
        return '{"text_input": "a", "output": "b"} {"extra": 1}'
    if roll < 0.11:
        return '{"text_input": 5, "output": "b"}'
    row: dict[str, object] = {
        "text_input": "".join(rng.choices(_PIECES, k=rng.randint(1, 3))),
        "output": "".join(rng.choices(_PIECES, k=rng.randint(1, 3))),
    }
    if rng.random() < 0.1:
        row["meta"] = {"k": [1, 2.5, None]}
    text = json.dumps(row, ensure_ascii=rng.random() < 0.5)
    return text + (" \r" if rng.random() < 0.1 else "")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("preamble", ["", 'Say "hi": '])
def test_fast_path_matches_the_careful_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, preamble: str
) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", 97)  # many blocks, lines split across reads
    rng = random.Random(seed)
    lines = [_random_line(rng) for _ in range(rng.randint(1, 120))]
    clean = seed % 3 == 0  # some files with only valid rows, to exercise the fast path alone
    if clean:
        lines = [ln for ln in lines if ln.startswith('{"text_input": "') and "\\ud8" not in ln]
    data = "\n".join(lines) + ("\n" if rng.random() < 0.5 else "")
    bom = "\ufeff" if seed % 4 == 1 else ""
    path = tmp_path / "d.jsonl"
    path.write_bytes((bom + data).encode("utf-8", "surrogatepass"))
    assert fast(path, preamble) == careful(path, preamble)


def test_fast_path_matches_on_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    good = b"".join(json.dumps(r).encode() + b"\n" for r in rows(25))
    path.write_bytes(good + b'{"text_input": "\xff", "output": "x"}\n' + good)
    result = fast(path, "")
    assert result == careful(path, "")
    assert "not valid UTF-8" in result.errors[0].message


def test_a_located_file_is_keyed_by_its_resolved_path(tmp_path: Path) -> None:
    """The path entry's key holds ``os.path.realpath`` of the file and the settings as one
    canonical JSON list, however the file was reached: through a linked folder, as a link,
    by a relative path."""
    (tmp_path / "real").mkdir()
    data = write(tmp_path / "real" / "d.jsonl", rows(3))
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "alias.jsonl").symlink_to(data)
    hp = {"epochCount": 3, "learningRate": 1}
    realpaths = RealPaths()
    for path in ("linked/d.jsonl", "real/alias.jsonl", "real/../linked/d.jsonl", "real/d.jsonl"):
        source = file_source(path, path, preamble="Q: ")
        with pytest.MonkeyPatch.context() as m:
            m.chdir(tmp_path)
            where = cache_module.locate(source, path, BASE, hp, realpaths)
            assert where is not None and where.real == os.path.realpath(path) == str(data)
            assert where.stat[:3] == [
                data.stat().st_size,
                data.stat().st_mtime_ns,
                data.stat().st_ino,
            ]
            settings = [
                cache_module.CACHE_FORMAT,
                FINGERPRINT_FORMAT,
                "jsonl",
                "text_input",
                "output",
                "Q: ",
                BASE,
                canonical_hyperparameters(hp),
            ]
            expected = json.dumps(
                ["path", str(data), *settings], sort_keys=True, separators=(",", ":")
            )
            assert where.path_key == expected
