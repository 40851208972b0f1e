"""Git blob IDs as content keys: a file a checkout vouches for is not hashed, and nothing git
cannot vouch for gets one (`gitops_tune.dataset.gitblobs`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gitops_tune.dataset import Scan, ScanCache, ScanJob, Scans, file_source
from gitops_tune.dataset import cache as cache_module
from gitops_tune.dataset.gitblobs import PREFIX, blob_ids
from tests.dataset.test_cache import BASE, HP, Reads, backdate, rows, write

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    run = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args]
    return subprocess.run(run, cwd=cwd, check=True, capture_output=True, text=True).stdout


def repo(root: Path, *names: str) -> Path:
    """A repository with data files committed (backdated, out of the racy window)."""
    (root / "data").mkdir(parents=True)
    for name in names:
        write(root / "data" / name, rows(tag=name))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    return root


def ids(*paths: Path) -> dict[str, str]:
    return blob_ids({os.path.realpath(p): p.stat().st_size for p in paths})


def test_a_clean_tracked_file_is_named_by_its_blob(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", "a.jsonl")
    data = root / "data" / "a.jsonl"
    blob = git(root, "hash-object", "data/a.jsonl").strip()
    assert ids(data) == {os.path.realpath(data): PREFIX + blob}


def test_what_git_cannot_vouch_for_gets_no_id(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", "changed.jsonl", "assumed.jsonl", "skipped.jsonl", "kept.jsonl")
    data = root / "data"
    git(root, "update-index", "--assume-unchanged", "data/assumed.jsonl")
    git(root, "update-index", "--skip-worktree", "data/skipped.jsonl")
    for name in ("changed.jsonl", "assumed.jsonl", "skipped.jsonl"):
        (data / name).write_text((data / name).read_text().replace("answer 1", "answer 2"))
    write(data / "untracked.jsonl", rows())
    found = ids(*sorted(data.iterdir()))
    assert list(found) == [os.path.realpath(data / "kept.jsonl")]


def test_an_end_of_line_conversion_is_hashed_instead(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / ".gitattributes").write_text("*.jsonl text eol=crlf\n")
    repo(root, "a.jsonl")
    copy = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(copy))
    data = copy / "data" / "a.jsonl"
    assert b"\r\n" in data.read_bytes()  # the checkout differs from the blob
    assert ids(data) == {}


def test_outside_a_repository_nothing(tmp_path: Path) -> None:
    assert ids(write(tmp_path / "a.jsonl", rows())) == {}


def prefetch(data: Path, cache: Path) -> Scan:
    source = file_source(str(data), data.name)
    job = ScanJob.of(source, BASE, HP)
    assert job is not None
    scans = Scans(ScanCache(cache), workers=1)
    scans.prefetch([job])
    return scans.scan(source, BASE, HP)


def test_a_fresh_git_clone_with_the_restored_cache_neither_reads_nor_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path / "r", "a.jsonl")
    git(root, "update-index", "--refresh")
    first = prefetch(root / "data" / "a.jsonl", tmp_path / "ci")
    assert PREFIX in (tmp_path / "ci" / "contents.json").read_text()  # keyed by the blob
    copy = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(copy))
    hashes: list[str] = []
    real_digest = cache_module.file_digest

    def counting(path: str) -> str:
        hashes.append(path)
        return real_digest(path)

    monkeypatch.setattr(cache_module, "file_digest", counting)
    reads = Reads(monkeypatch)
    assert prefetch(copy / "data" / "a.jsonl", tmp_path / "ci") == first
    assert (reads.count, hashes) == (0, [])


def test_a_file_changed_in_the_clone_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path / "r", "a.jsonl")
    git(root, "update-index", "--refresh")
    first = prefetch(root / "data" / "a.jsonl", tmp_path / "ci")
    copy = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(copy))
    data = copy / "data" / "a.jsonl"
    data.write_text(data.read_text().replace("answer 7", "answer 8"))  # same size, not committed
    backdate(data, 30)
    reads = Reads(monkeypatch)
    again = prefetch(data, tmp_path / "ci")
    assert reads.count == 1
    assert again.fingerprint != first.fingerprint
    entries = json.loads((tmp_path / "ci" / "contents.json").read_text())
    assert len(entries) >= 1
