"""Cloud Storage uploads on ``/upload/storage/v1/b/{bucket}/o``: media and multipart ones go to
`gcs.GcsDialect.upload`; resumable ones (``uploadType=resumable``, which google-cloud-storage
uses for anything over 8 MiB) are served here, as Google's "Perform resumable uploads" page
for the JSON API describes them and as google-cloud-storage's ``_media`` package sends them:

- ``POST ...?uploadType=resumable&name=N`` (body: the object's metadata as JSON, optional;
  headers ``X-Upload-Content-Type`` and ``X-Upload-Content-Length``, optional) answers 200
  with an empty body and the session URI in ``Location``: the same path with ``upload_id``.
- ``PUT <session URI>`` with ``Content-Range: bytes START-END/TOTAL`` (``TOTAL`` may be
  ``*`` until the last chunk) sends a chunk; ``bytes */TOTAL`` or ``bytes */*`` with no body
  asks how far the upload got. Until every byte has arrived the answer is ``308`` (Resume
  Incomplete) with ``Range: bytes=0-LAST`` (no ``Range`` before the first byte); the last
  chunk's answer is ``200`` with the Object. A chunk that starts before what has arrived is
  taken from where it left off (a retry after a lost answer); one that starts after it is
  refused. An ``x-goog-hash`` on the last chunk is checked against the object's hashes.
- ``DELETE <session URI>`` cancels the session: ``499``.

Sessions live in the store (documents ``gcs-upload``, their chunks as blobs), so a session
outlives the request thread and is seen by every emulator process on the same store.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote

from gitops_tune.emulator.api import Request, Response, Route
from gitops_tune.emulator.gcs import (
    GcsDialect,
    GcsError,
    Upload,
    hashes,
    object_name,
    origin,
)

KIND_UPLOAD = "gcs-upload"
CHUNKS = "~uploads"  # the blobs' bucket for chunks: no bucket name starts with "~"
PRECONDITIONS = ("ifGenerationMatch", "ifGenerationNotMatch")
_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)\Z")


class Uploads:
    """The upload routes of `GcsDialect`, with the resumable protocol."""

    def __init__(self, dialect: GcsDialect) -> None:
        self.dialect = dialect
        self.store = dialect.store

    def routes(self) -> list[Route]:
        path = "/upload/storage/v1/b/{bucket}/o"
        return [
            Route("POST", path, self.post, auth="none"),
            Route("PUT", path, self.put, auth="none"),
            Route("DELETE", path, self.cancel, auth="none"),
        ]

    def post(self, req: Request) -> Response:
        if req.arg("uploadType") != "resumable":
            return self.dialect.upload(req)
        bucket = req.params["bucket"]
        self.dialect.bucket(bucket)
        metadata = req.json()
        name = object_name(req.arg("name") or metadata.get("name"))
        query = {k: v for k in PRECONDITIONS if (v := req.arg(k)) is not None}
        total = req.headers.get("x-upload-content-length")
        if total is not None and not total.isdigit():
            raise GcsError(400, f"Invalid X-Upload-Content-Length: {total!r}")
        upload = _upload({"bucket": bucket, "name": name, "metadata": metadata, "query": query})
        self.dialect.check_preconditions(upload)
        upload_id = secrets.token_urlsafe(24)
        session: dict[str, Any] = {
            "bucket": bucket,
            "name": name,
            "metadata": metadata,
            "contentType": req.headers.get("x-upload-content-type", "application/octet-stream"),
            "origin": origin(req),
            "query": query,
            "total": int(total) if total is not None else None,
            "received": 0,
            "chunks": [],
        }
        self.store.insert_doc(KIND_UPLOAD, upload_id, session)
        location = (
            f"{origin(req)}/upload/storage/v1/b/{bucket}/o?uploadType=resumable"
            f"&name={quote(name, safe='')}&upload_id={upload_id}"
        )
        return Response(200, b"", {"Location": location})

    def _session(self, req: Request) -> tuple[str, dict[str, Any]]:
        upload_id = req.arg("upload_id") or ""
        session = self.store.get_doc(KIND_UPLOAD, upload_id) if upload_id else None
        if session is None or session["bucket"] != req.params["bucket"]:
            raise GcsError(404, "No such upload session.")
        return upload_id, session

    def put(self, req: Request) -> Response:
        upload_id, session = self._session(req)
        start, total = _content_range(req.headers.get("content-range"), len(req.body))
        known = session["total"]
        if total is not None and known is not None and total != known:
            raise GcsError(400, f"The upload's total size is {known} bytes, not {total}.")
        total = known if total is None else total
        received = int(session["received"])
        data = req.body
        if start is not None:
            if start > received:
                raise GcsError(
                    400,
                    f"Invalid request: the chunk starts at byte {start}, but {received} "
                    "bytes have arrived.",
                )
            data = data[received - start :]
        if data:
            self.store.put_blob(CHUNKS, f"{upload_id}/{received:015d}", data)
            session["chunks"].append(received)
            received += len(data)
        session["received"], session["total"] = received, total
        if total is not None and received > total:
            raise GcsError(400, f"The upload sent {received} bytes, more than its {total}.")
        if total is None or received < total:
            self.store.put_doc(KIND_UPLOAD, upload_id, session)
            headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
            return Response(308, b"", headers)
        return Response(200, self._finish(req, upload_id, session))

    def _finish(self, req: Request, upload_id: str, session: dict[str, Any]) -> dict[str, Any]:
        data = b"".join(
            self.store.get_blob(CHUNKS, f"{upload_id}/{offset:015d}") or b""
            for offset in session["chunks"]
        )
        _check_hash(req.headers.get("x-goog-hash"), data)
        try:
            return self.dialect.write_object(_upload(session), data)
        finally:
            self._drop(upload_id, session)

    def cancel(self, req: Request) -> Response:
        upload_id, session = self._session(req)
        self._drop(upload_id, session)
        return Response(499, b"")

    def _drop(self, upload_id: str, session: dict[str, Any]) -> None:
        for offset in session["chunks"]:
            self.store.delete_blob(CHUNKS, f"{upload_id}/{offset:015d}")
        self.store.delete_doc(KIND_UPLOAD, upload_id)


def _upload(session: dict[str, Any]) -> Upload:
    query: dict[str, str] = session["query"]
    return Upload(
        session["bucket"],
        session["name"],
        session["metadata"],
        session.get("contentType", "application/octet-stream"),
        session.get("origin", ""),
        query.get,
    )


def _content_range(header: str | None, length: int) -> tuple[int | None, int | None]:
    """(first byte of the chunk or None for a status check, total size or None if unknown).
    No header: the whole object in this one request."""
    if header is None:
        return 0, length
    m = _RANGE.match(header.strip())
    if m is None:
        raise GcsError(400, f"Invalid Content-Range: {header!r}")
    first, last, total = m.groups()
    size = None if total == "*" else int(total)
    if first is None:
        if length:
            raise GcsError(400, "A status check (Content-Range: bytes */...) has no body.")
        return None, size
    if int(last) - int(first) + 1 != length:
        raise GcsError(400, f"Content-Range {header!r} does not match a {length}-byte body.")
    return int(first), size


def _check_hash(header: str | None, data: bytes) -> None:
    """``x-goog-hash: crc32c=...,md5=...``: each given digest must match the data's."""
    if not header:
        return
    digests = hashes(data)
    actual = {"crc32c": digests["crc32c"], "md5": digests["md5Hash"]}
    for item in header.split(","):
        kind, _, value = item.strip().partition("=")
        if kind in actual and value != actual[kind]:
            raise GcsError(
                400, f"Provided {kind} {value} does not match the data's {actual[kind]}."
            )
