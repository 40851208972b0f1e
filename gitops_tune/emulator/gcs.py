"""A minimal Cloud Storage JSON API: buckets, media and multipart uploads (resumable ones:
`gcs_uploads`), object metadata (with ``md5Hash`` and ``crc32c``), downloads
(``alt=media``), listing and deletion.

Enough for ``google-cloud-storage`` pointed at the emulator with ``STORAGE_EMULATOR_HOST``
(the library then sends no credentials, so these routes take anonymous callers, as other
Cloud Storage emulators do). Errors use the JSON API's envelope, which has an ``errors`` list
with a ``reason`` and no ``status``.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gitops_tune.emulator import training
from gitops_tune.emulator.api import ApiError, Request, Response, Route
from gitops_tune.emulator.store import AlreadyExists, Store

KIND_BUCKET = "gcs-bucket"
KIND_OBJECT = "gcs-object"
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]\Z")
LIST_DEFAULT, LIST_MAX = 1000, 1000
_REASONS = {
    400: "invalid",
    404: "notFound",
    409: "conflict",
    412: "conditionNotMet",
    501: "notImplemented",
}


class GcsError(ApiError):
    """The JSON API error envelope: ``{"error": {"code", "message", "errors": [...]}}``."""

    def envelope(self) -> dict[str, Any]:
        reason = _REASONS.get(self.code, "backendError")
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": reason}],
            }
        }


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE: list[int] = []


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli); the C extension when installed, else plain Python."""
    try:
        import google_crc32c  # type: ignore[import-not-found, unused-ignore]

        return int(google_crc32c.value(data))
    except ImportError:
        pass
    if not _TABLE:
        _TABLE.extend(_crc32c_table())
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def hashes(data: bytes) -> dict[str, str]:
    """``md5Hash`` and ``crc32c`` as the JSON API reports them: base64 of the big-endian
    digest."""
    return {
        "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode(),
        "crc32c": base64.b64encode(struct.pack(">I", crc32c(data))).decode(),
    }


@dataclass(frozen=True)
class Upload:
    """What an upload writes: the object, its resource metadata (JSON API ``Object``
    fields), the media's content type, the emulator's base URL and the request's
    preconditions (``ifGenerationMatch``...)."""

    bucket: str
    name: str
    metadata: dict[str, Any]
    content_type: str
    origin: str
    arg: Callable[[str], str | None]


class GcsDialect:
    """Handlers for ``/storage/v1`` and ``/upload/storage/v1`` over one `Store`."""

    def __init__(self, store: Store, *, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    def routes(self) -> list[Route]:
        b, o = "/storage/v1/b", "/storage/v1/b/{bucket}/o"
        return [
            Route("POST", b, self.create_bucket, auth="none"),
            Route("GET", "/storage/v1/b/{bucket}", self.get_bucket, auth="none"),
            Route("GET", o, self.list_objects, auth="none"),
            Route("GET", f"{o}/{{object*}}", self.get_object, auth="none"),
            Route("GET", f"/download{o}/{{object*}}", self.get_object, auth="none"),
            Route("DELETE", f"{o}/{{object*}}", self.delete_object, auth="none"),
        ]

    # -- buckets ----------------------------------------------------------------------------

    def create_bucket(self, req: Request) -> Response:
        body = req.json()
        name = body.get("name")
        if not isinstance(name, str) or not BUCKET_NAME.match(name):
            raise GcsError(400, f"Invalid bucket name: {name!r}")
        now = training.rfc3339(self.clock())
        doc = {
            "kind": "storage#bucket",
            "id": name,
            "name": name,
            "projectNumber": "0",
            "metageneration": "1",
            "location": str(body.get("location", "US")).upper(),
            "storageClass": body.get("storageClass", "STANDARD"),
            "timeCreated": now,
            "updated": now,
            "etag": "CAE=",
        }
        try:
            self.store.insert_doc(KIND_BUCKET, name, doc)
        except AlreadyExists:
            raise GcsError(
                409,
                "Your previous request to create the named bucket succeeded and you "
                "already own it.",
            ) from None
        return Response(200, doc)

    def bucket(self, name: str) -> dict[str, Any]:
        doc = self.store.get_doc(KIND_BUCKET, name)
        if doc is None:
            raise GcsError(404, "The specified bucket does not exist.")
        return doc

    def get_bucket(self, req: Request) -> Response:
        return Response(200, self.bucket(req.params["bucket"]))

    # -- objects ----------------------------------------------------------------------------

    def upload(self, req: Request) -> Response:
        """A media or multipart upload (resumable ones: `gcs_uploads`)."""
        bucket = req.params["bucket"]
        self.bucket(bucket)
        kind = req.arg("uploadType")
        metadata: dict[str, Any] = {}
        if kind == "media":
            data = req.body
            content_type = req.headers.get("content-type", "application/octet-stream")
        elif kind == "multipart":
            metadata, data, content_type = _multipart(req)
        else:
            raise GcsError(400, f"Invalid uploadType: {kind!r} (media, multipart or resumable).")
        name = object_name(req.arg("name") or metadata.get("name"))
        upload = Upload(bucket, name, metadata, content_type, origin(req), req.arg)
        return Response(200, self.write_object(upload, data))

    def write_object(self, upload: Upload, data: bytes) -> dict[str, Any]:
        """Store ``data`` as the object ``upload`` names (a new generation); its resource."""
        bucket, name, metadata = upload.bucket, upload.name, upload.metadata
        self.check_preconditions(upload)
        generation = str(int(self.clock() * 1_000_000))
        now = training.rfc3339(self.clock())
        quoted = quote(name, safe="")
        doc: dict[str, Any] = {
            "kind": "storage#object",
            "id": f"{bucket}/{name}/{generation}",
            "selfLink": f"{upload.origin}/storage/v1/b/{bucket}/o/{quoted}",
            "mediaLink": (
                f"{upload.origin}/download/storage/v1/b/{bucket}/o/{quoted}"
                f"?generation={generation}&alt=media"
            ),
            "name": name,
            "bucket": bucket,
            "generation": generation,
            "metageneration": "1",
            "contentType": metadata.get("contentType") or upload.content_type,
            "storageClass": "STANDARD",
            "size": str(len(data)),
            "timeCreated": now,
            "updated": now,
            "etag": base64.b64encode(secrets.token_bytes(6)).decode(),
            **hashes(data),
        }
        custom = metadata.get("metadata")
        if isinstance(custom, dict) and custom:
            doc["metadata"] = {str(k): str(v) for k, v in custom.items()}
        self.store.put_blob(bucket, name, data)
        self.store.put_doc(KIND_OBJECT, f"{bucket}/{name}", doc)
        return doc

    def check_preconditions(self, upload: Upload) -> None:
        """Refuse (412) an upload whose preconditions the current object does not meet."""
        current = self.store.get_doc(KIND_OBJECT, f"{upload.bucket}/{upload.name}")
        _preconditions(upload.arg, "POST", current)

    def _object(self, req: Request) -> tuple[str, str, dict[str, Any]]:
        bucket, name = req.params["bucket"], req.params["object"]
        self.bucket(bucket)
        doc = self.store.get_doc(KIND_OBJECT, f"{bucket}/{name}")
        if doc is None:
            raise GcsError(404, f"No such object: {bucket}/{name}")
        return bucket, name, doc

    def get_object(self, req: Request) -> Response:
        bucket, name, doc = self._object(req)
        _preconditions(req.arg, req.method, doc)
        if req.arg("alt") == "media":
            data = self.store.get_blob(bucket, name) or b""
            headers = {
                "Content-Type": str(doc.get("contentType", "application/octet-stream")),
                "x-goog-generation": str(doc["generation"]),
                "x-goog-hash": f"crc32c={doc['crc32c']},md5={doc['md5Hash']}",
            }
            return Response(200, data, headers)
        return Response(200, doc)

    def delete_object(self, req: Request) -> Response:
        bucket, name, doc = self._object(req)
        _preconditions(req.arg, req.method, doc)
        self.store.delete_doc(KIND_OBJECT, f"{bucket}/{name}")
        self.store.delete_blob(bucket, name)
        return Response(204, b"")

    def list_objects(self, req: Request) -> Response:
        bucket = req.params["bucket"]
        self.bucket(bucket)
        prefix = req.arg("prefix") or ""
        raw = req.arg("maxResults")
        try:
            size = min(int(raw), LIST_MAX) if raw else LIST_DEFAULT
        except ValueError:
            raise GcsError(400, f"Invalid value for maxResults: {raw!r}") from None
        size = size or LIST_DEFAULT
        after = req.arg("pageToken") or ""
        if after:
            try:
                after = base64.urlsafe_b64decode(after.encode()).decode()
            except ValueError:
                raise GcsError(400, "Invalid pageToken.") from None
        found = [
            doc
            for key, doc in self.store.docs(KIND_OBJECT, f"{bucket}/{prefix}")
            if key > f"{bucket}/{after}" or not after
        ]
        out: dict[str, Any] = {"kind": "storage#objects"}
        page = found[:size]
        if page:
            out["items"] = page
        if len(found) > size:
            out["nextPageToken"] = base64.urlsafe_b64encode(page[-1]["name"].encode()).decode()
        return Response(200, out)


def origin(req: Request) -> str:
    """The emulator's own base URL, as the caller reached it."""
    return f"http://{req.headers.get('host', '127.0.0.1')}"


def _preconditions(
    arg: Callable[[str], str | None], method: str, current: dict[str, Any] | None
) -> None:
    """``ifGenerationMatch`` (``0``: only if absent) and ``ifGenerationNotMatch``."""
    generation = current["generation"] if current else "0"
    match = arg("ifGenerationMatch")
    if match is not None and match != generation:
        raise GcsError(412, "At least one of the pre-conditions you specified did not hold.")
    not_match = arg("ifGenerationNotMatch")
    if not_match is not None and not_match == generation:
        raise GcsError(304 if method == "GET" else 412, "Not modified.")


def object_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name.encode()) > 1024:
        raise GcsError(400, "Required parameter: name (1-1024 bytes of UTF-8).")
    return name


def _multipart(req: Request) -> tuple[dict[str, Any], bytes, str]:
    """A ``multipart/related`` body: the JSON metadata, then the media."""
    content_type = req.headers.get("content-type", "")
    if not content_type.startswith("multipart/related"):
        raise GcsError(400, "uploadType=multipart needs a multipart/related body.")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + req.body
    )
    parts = list(message.iter_parts()) if message.is_multipart() else []
    if len(parts) != 2:
        raise GcsError(400, "A multipart upload has exactly two parts: metadata and media.")
    head = parts[0].get_payload(decode=True)
    try:
        metadata = json.loads(head if isinstance(head, bytes) else b"{}")
    except ValueError:
        raise GcsError(400, "The metadata part is not valid JSON.") from None
    if not isinstance(metadata, dict):
        raise GcsError(400, "The metadata part must be a JSON object.")
    media = parts[1].get_payload(decode=True)
    data = media if isinstance(media, bytes) else b""
    return metadata, data, parts[1].get_content_type()
