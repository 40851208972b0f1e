"""The staging bucket against the emulator's Cloud Storage, through google-cloud-storage: a
dataset over 8 MiB goes up as a resumable upload in chunks, under the sha256 of its bytes."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterator

import pytest

from gitops_tune.dataset import Example
from gitops_tune.emulator.server import EmulatorConfig, start
from gitops_tune.providers import sdk_storage
from gitops_tune.providers.base import ProviderError
from gitops_tune.providers.sdk_storage import Storage
from gitops_tune.providers.vertex_bucket import STAGING_PREFIX, StagingBucket
from gitops_tune.providers.vertex_jobs import to_jsonl

BUCKET = "staging"
UPLOADS = "PUT /upload/storage/v1/b/{bucket}/o"
STARTS = "POST /upload/storage/v1/b/{bucket}/o"


def examples(n: int, width: int = 500) -> Iterator[Example]:
    for i in range(n):
        yield Example(f"question {i}: " + "x" * width, f"answer {i}")


def test_a_large_dataset_is_staged_in_resumable_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_storage, "UPLOAD_CHUNK", 2 * 1024 * 1024)
    expected = to_jsonl(examples(20_000))
    assert len(expected) > 8 * 1024 * 1024  # google-cloud-storage's multipart limit
    key = hashlib.sha256(expected).hexdigest()
    with start(EmulatorConfig(port=0)) as emu:
        storage = Storage(endpoint=emu.url)
        storage.create_bucket(BUCKET)
        staging = StagingBucket(storage, BUCKET)
        uri = staging.stage(None, lambda: examples(20_000))
        assert uri == f"gs://{BUCKET}/{STAGING_PREFIX}{key}.jsonl"
        stored = emu.store.get_blob(BUCKET, f"{STAGING_PREFIX}{key}.jsonl")
        stats = emu.emulator.stats.snapshot()
        assert stats[UPLOADS] == -(-len(expected) // (2 * 1024 * 1024))  # one PUT a chunk
        assert stats[STARTS] == 1
        assert staging.stage(None, lambda: examples(20_000)) == uri  # staged already
        assert emu.emulator.stats.snapshot()[STARTS] == 1
    assert stored == expected
    first = json.loads(expected.splitlines()[0])
    assert first["contents"][1] == {"role": "model", "parts": [{"text": "answer 0"}]}


def test_a_small_dataset_is_one_request() -> None:
    with start(EmulatorConfig(port=0)) as emu:
        storage = Storage(endpoint=emu.url)
        storage.create_bucket(BUCKET)
        uri = StagingBucket(storage, BUCKET).stage(None, lambda: examples(3))
        stats = emu.emulator.stats.snapshot()
        assert stats[STARTS] == 1 and UPLOADS not in stats  # multipart: no chunks
        name = uri.removeprefix(f"gs://{BUCKET}/")
        assert emu.store.get_blob(BUCKET, name) == to_jsonl(examples(3))
        reported = storage.hashes(uri)  # what a gs:// dataset is checked and fingerprinted by
        assert reported is not None and reported["size"] == str(len(to_jsonl(examples(3))))
        assert set(reported) == {"crc32c", "md5Hash", "size"}


def test_an_empty_dataset_is_not_staged() -> None:
    with start(EmulatorConfig(port=0)) as emu:
        storage = Storage(endpoint=emu.url)
        with pytest.raises(ProviderError, match="holds no examples"):
            StagingBucket(storage, BUCKET).stage(None, lambda: examples(0))


def test_without_google_cloud_storage_the_backend_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The client is made on first use, but a missing library is refused at once."""
    real = importlib.util.find_spec

    def missing(name: str, package: str | None = None) -> object:
        return None if name == "google.cloud.storage" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", missing)
    with pytest.raises(ProviderError, match=r"pip install 'gitops-tune\[vertex\]'"):
        Storage()
