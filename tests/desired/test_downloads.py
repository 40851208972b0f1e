"""`desired.downloads.kept`: a gs:// object kept under the home folder by its content hashes."""

from __future__ import annotations

from pathlib import Path

from gitops_tune.desired.downloads import kept
from gitops_tune.providers.base import ProviderError

URI = "gs://b/held/valid.jsonl"


class Objects:
    """A fake storage read: the objects it holds, and how often each was read."""

    def __init__(self, **objects: bytes) -> None:
        self.objects = {f"gs://b/{k.replace('__', '/')}.jsonl": v for k, v in objects.items()}
        self.reads: list[str] = []

    def __call__(self, uri: str) -> bytes | None:
        self.reads.append(uri)
        return self.objects.get(uri)


def test_an_object_with_the_same_hashes_is_read_once(tmp_path: Path) -> None:
    read = Objects(held__valid=b'{"a": 1}\n')
    hashes = {"crc32c": "AAAA", "md5Hash": "m", "size": "9"}
    first = kept(URI, read, tmp_path, hashes)
    assert isinstance(first, Path) and first.read_bytes() == b'{"a": 1}\n'
    assert first.suffix == ".jsonl"
    assert kept(URI, read, tmp_path, {**hashes, "size": "10"}) == first  # size is no content key
    assert read.reads == [URI]
    read.objects[URI] = b'{"a": 2}\n'
    second = kept(URI, read, tmp_path, {**hashes, "crc32c": "BBBB"})
    assert isinstance(second, Path) and second != first and second.read_bytes() == b'{"a": 2}\n'
    assert read.reads == [URI, URI]


def test_without_hashes_the_object_is_read_each_time(tmp_path: Path) -> None:
    read = Objects(held__valid=b"x\n")
    path = kept(URI, read, tmp_path)
    assert isinstance(path, Path)
    assert kept(URI, read, tmp_path, {"crc32c": ""}) == path  # named by its content
    assert len(read.reads) == 2
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_missing_object_or_a_failed_read_is_one_message(tmp_path: Path) -> None:
    assert kept("gs://b/nope.jsonl", Objects(), tmp_path, {"crc32c": "A"}) == (
        "no such object: gs://b/nope.jsonl"
    )

    def failing(uri: str) -> bytes | None:
        raise ProviderError("403: denied")

    assert kept(URI, failing, tmp_path) == f"cannot read {URI}: 403: denied"
    assert not list(tmp_path.iterdir())


def test_a_folder_that_cannot_be_written_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    found = kept(URI, Objects(held__valid=b"x\n"), tmp_path / "file" / "sub")
    assert isinstance(found, str) and found.startswith(f"cannot keep {URI} in ")
