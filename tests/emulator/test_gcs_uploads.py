"""Resumable uploads to the emulator's Cloud Storage: google-cloud-storage itself (which uses
them for anything over 8 MiB), and the protocol's edges over raw HTTP."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start

BUCKET = "uploads"
MiB = 1024 * 1024


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with start(EmulatorConfig(port=0)) as running:
        assert call(running, "POST", "/storage/v1/b?project=p", json.dumps({"name": BUCKET}))[0]
        yield running


def call(
    emu: RunningEmulator,
    method: str,
    target: str,
    body: bytes | str = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-case headers, body) of one request; ``target`` may be a full URL."""
    parts = urlsplit(target)
    path = f"{parts.path}?{parts.query}" if parts.query else parts.path
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=60)
    try:
        data = body.encode() if isinstance(body, str) else body
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def initiate(emu: RunningEmulator, name: str, **headers: str) -> str:
    status, head, _ = call(
        emu,
        "POST",
        f"/upload/storage/v1/b/{BUCKET}/o?uploadType=resumable&name={name}",
        json.dumps({"contentType": "application/jsonl"}),
        {"Content-Type": "application/json; charset=UTF-8", **headers},
    )
    assert status == 200
    assert "upload_id=" in head["location"]
    return head["location"]


def put(
    emu: RunningEmulator, session: str, data: bytes, content_range: str
) -> tuple[int, dict[str, str], bytes]:
    return call(emu, "PUT", session, data, {"Content-Range": content_range})


def download(emu: RunningEmulator, name: str) -> bytes:
    status, _, body = call(emu, "GET", f"/download/storage/v1/b/{BUCKET}/o/{name}?alt=media")
    assert status == 200
    return body


def test_google_cloud_storage_uploads_a_large_file_in_chunks(
    emu: RunningEmulator, tmp_path: Any
) -> None:
    """Over 8 MiB, google-cloud-storage switches to resumable uploads: POST, then PUT chunks
    (308 until the last, then 200 with the Object, whose crc32c the library checks)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    data = os.urandom(9 * MiB + 123)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    with mock.patch.dict(os.environ, {"STORAGE_EMULATOR_HOST": emu.url}):
        client = storage.Client(project="p", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
        whole = client.bucket(BUCKET).blob("whole.bin")
        whole.upload_from_filename(str(path), if_generation_match=0)
        chunked = client.bucket(BUCKET).blob("chunked.bin", chunk_size=4 * MiB)
        chunked.upload_from_filename(str(path))
        listed = {b.name: b for b in client.list_blobs(BUCKET)}
    assert download(emu, "whole.bin") == data
    assert download(emu, "chunked.bin") == data
    assert listed["chunked.bin"].size == len(data)
    assert listed["chunked.bin"].md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()
    stats = emu.emulator.stats.snapshot()
    assert stats["PUT /upload/storage/v1/b/{bucket}/o"] == 1 + 3  # whole, then 3 chunks


def test_chunks_308_with_the_range_then_the_object(emu: RunningEmulator) -> None:
    session = initiate(emu, "a.jsonl", **{"X-Upload-Content-Length": "10"})
    status, head, _ = put(emu, session, b"", "bytes */*")
    assert status == 308 and "range" not in head  # nothing has arrived yet
    status, head, _ = put(emu, session, b"01234", "bytes 0-4/*")
    assert (status, head["range"]) == (308, "bytes=0-4")
    status, head, _ = put(emu, session, b"", "bytes */10")  # where did it get to?
    assert (status, head["range"]) == (308, "bytes=0-4")
    status, head, _ = put(emu, session, b"3456", "bytes 3-6/*")  # a retry overlapping
    assert (status, head["range"]) == (308, "bytes=0-6")
    status, _, body = put(emu, session, b"789", "bytes 7-9/10")
    assert status == 200
    obj = json.loads(body)
    assert (obj["name"], obj["size"], obj["contentType"]) == ("a.jsonl", "10", "application/jsonl")
    assert download(emu, "a.jsonl") == b"0123456789"
    assert put(emu, session, b"", "bytes */10")[0] == 404  # the session is over


def test_a_chunk_past_what_arrived_is_refused(emu: RunningEmulator) -> None:
    session = initiate(emu, "gap.jsonl")
    assert put(emu, session, b"01", "bytes 0-1/*")[0] == 308
    status, _, body = put(emu, session, b"45", "bytes 4-5/6")
    assert status == 400
    assert "starts at byte 4, but 2 bytes have arrived" in body.decode()
    assert put(emu, session, b"2345", "bytes 2-5/6")[0] == 200
    assert download(emu, "gap.jsonl") == b"012345"


@pytest.mark.parametrize(
    ("content_range", "body", "says"),
    [
        ("bytes 0-9/5", b"0123456789", "more than its 5"),
        ("bytes 0-3/*", b"01", "does not match a 2-byte body"),
        ("bytes=0-1/2", b"01", "Invalid Content-Range"),
        ("bytes */2", b"01", "has no body"),
    ],
)
def test_bad_content_ranges_are_refused(
    emu: RunningEmulator, content_range: str, body: bytes, says: str
) -> None:
    session = initiate(emu, "bad.jsonl")
    status, _, answer = put(emu, session, body, content_range)
    assert status == 400
    assert says in json.loads(answer)["error"]["message"]


def test_the_last_chunks_hash_is_checked(emu: RunningEmulator) -> None:
    session = initiate(emu, "hash.jsonl")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    status, _, body = call(
        emu,
        "PUT",
        session,
        b"data",
        {"Content-Range": "bytes 0-3/4", "x-goog-hash": f"md5={wrong}"},
    )
    assert status == 400
    assert "does not match" in json.loads(body)["error"]["message"]
    status, _, _ = call(emu, "GET", f"/storage/v1/b/{BUCKET}/o/hash.jsonl")
    assert status == 404


def test_a_session_can_be_cancelled(emu: RunningEmulator) -> None:
    session = initiate(emu, "gone.jsonl")
    assert put(emu, session, b"01", "bytes 0-1/*")[0] == 308
    assert call(emu, "DELETE", session)[0] == 499
    assert put(emu, session, b"", "bytes */*")[0] == 404


def test_preconditions_hold_for_resumable_uploads(emu: RunningEmulator) -> None:
    session = initiate(emu, "once.jsonl")
    assert put(emu, session, b"first", "bytes 0-4/5")[0] == 200
    status, _, _ = call(
        emu,
        "POST",
        f"/upload/storage/v1/b/{BUCKET}/o?uploadType=resumable&name=once.jsonl&ifGenerationMatch=0",
    )
    assert status == 412


def test_an_unknown_bucket_or_session_is_not_found(emu: RunningEmulator) -> None:
    status, _, _ = call(emu, "POST", "/upload/storage/v1/b/nope/o?uploadType=resumable&name=x")
    assert status == 404
    target = f"/upload/storage/v1/b/{BUCKET}/o?uploadType=resumable&upload_id=unknown"
    assert put(emu, target, b"", "bytes */*")[0] == 404
