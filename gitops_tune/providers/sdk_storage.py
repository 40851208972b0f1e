"""The one door to Cloud Storage: the only module that imports ``google-cloud-storage`` (the
optional ``[vertex]`` extra); its errors are mapped the same way as google-genai's.

Used by the Vertex AI (Gemini Enterprise Agent Platform) backend to stage datasets (and
remove them once no job needs them), to read the per-job index earlier versions kept (see
docs/vertex.md) and, at load time, to fingerprint ``gs://`` datasets by the content hashes the
storage API reports and check the media objects a chat dataset's ``fileData`` parts name
(`Storage.objects`). The library honours ``STORAGE_EMULATOR_HOST`` on its own (it then sends
no credentials); ``endpoint`` points a client at an emulator explicitly.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, TypeVar

from gitops_tune.providers.base import (
    ADC_HINT,
    ProviderError,
    TransientError,
    guarded,
    status_error,
)

T = TypeVar("T")
UPLOAD_CHUNK = 16 * 1024 * 1024  # a resumable upload's chunk: a multiple of 256 KiB
INSTALL_HINT = "pip install 'gitops-tune[vertex]'"
_TRANSPORT = frozenset(
    {"ConnectionError", "Timeout", "ReadTimeout", "ConnectTimeout", "TransportError"}
)


def parse_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/object`` -> (bucket, object); `ValueError` says what is wrong."""
    if not uri.startswith("gs://"):
        raise ValueError(f"{uri!r} is not a Cloud Storage URI (gs://BUCKET/OBJECT)")
    bucket, _, name = uri[5:].partition("/")
    if not bucket or not name or name.endswith("/"):
        raise ValueError(f"{uri!r} must name an object: gs://BUCKET/OBJECT")
    return bucket, name


def bucket_name(value: str) -> str:
    """``gs://bucket`` or ``bucket`` -> ``bucket``."""
    name = value.removeprefix("gs://").strip("/")
    if not name or "/" in name:
        raise ValueError(f"{value!r} is not a bucket (gs://BUCKET)")
    return name


class Storage:
    """A thin, error-mapped wrapper over one ``google.cloud.storage.Client``, made on first
    use: a plan whose list came from the helper process never imports the library (about
    0.4 s of a core). A missing library is an error at once; a client that cannot be made
    (credentials) one at the first call."""

    def __init__(self, endpoint: str | None = None, credentials: Any = None) -> None:
        try:
            found = importlib.util.find_spec("google.cloud.storage")
        except ImportError:  # no google.cloud at all
            found = None
        if found is None:
            raise ProviderError(
                f"Cloud Storage needs the google-cloud-storage package: {INSTALL_HINT}"
            )
        self._args = endpoint, credentials
        self._made: Any = None
        self._making = threading.Lock()  # apply stages from several threads
        self.listings = self.pages = 0  # `objects`' listings and the pages they took

    @property
    def _client(self) -> Any:
        with self._making:
            if self._made is None:
                self._made = _make_client(*self._args)
            return self._made

    def _call(self, call: Callable[[], T], what: str) -> T:
        return guarded(call, what, _mapped)

    def create_bucket(self, bucket: str) -> None:
        self._call(lambda: self._client.create_bucket(bucket), f"create gs://{bucket}")

    def hashes(self, uri: str) -> dict[str, str] | None:
        """The object's ``md5Hash`` and ``crc32c`` as the storage API reports them, and its
        ``size`` (from the same metadata GET); None when it does not exist."""
        bucket, name = parse_uri(uri)
        blob = self._call(lambda: self._client.bucket(bucket).get_blob(name), f"get {uri}")
        if blob is None:
            return None
        out = {"crc32c": str(blob.crc32c or "")}
        if blob.md5_hash:  # composite objects have none
            out["md5Hash"] = str(blob.md5_hash)
        if blob.size is not None:
            out["size"] = str(blob.size)
        return out

    def objects(self, uris: Iterable[str]) -> dict[str, dict[str, str] | None]:
        """Each ``gs://`` URI -> what the storage API reports of it (``generation``,
        ``crc32c``, ``md5Hash``, ``contentType``, ``size``), None where there is no such
        object. Batched: one listing per bucket and folder (``gs://b/images/``), never one
        request per object."""
        groups: dict[tuple[str, str], set[str]] = {}
        for uri in uris:
            bucket, name = parse_uri(uri)
            groups.setdefault((bucket, name[: name.rfind("/") + 1]), set()).add(name)
        found: dict[str, dict[str, str] | None] = {}
        for (bucket, prefix), names in sorted(groups.items()):
            listed = self._call(
                functools.partial(self._listing, bucket, prefix, names),
                f"list gs://{bucket}/{prefix}",
            )
            for name in names:
                found[f"gs://{bucket}/{name}"] = listed.get(name)
        return found

    def _listing(self, bucket: str, prefix: str, names: set[str]) -> dict[str, dict[str, str]]:
        """The objects of ``names`` found directly under ``prefix`` (not in sub-folders)."""
        self.listings += 1
        out: dict[str, dict[str, str]] = {}
        pages = self._client.list_blobs(bucket, prefix=prefix, delimiter="/").pages
        for page in pages:
            self.pages += 1
            for blob in page:
                if blob.name in names:
                    out[blob.name] = _object_info(blob)
        return out

    def read(self, uri: str) -> bytes | None:
        """The object's bytes; None when it does not exist."""
        bucket, name = parse_uri(uri)
        blob = self._client.bucket(bucket).blob(name)
        try:
            data: bytes = blob.download_as_bytes()
        except Exception as e:
            if _code(e) == 404:
                return None
            raise _mapped(e, f"read {uri}") from None
        return data

    def upload_file_once(self, bucket: str, name: str, data: BinaryIO, size: int) -> str:
        """Upload ``size`` bytes of ``data`` (a seekable file at its start) unless the object
        exists (content-addressed names); the URI. Over 8 MiB google-cloud-storage uploads in
        resumable chunks of `UPLOAD_CHUNK` bytes, so no more than a chunk is in memory."""
        uri = f"gs://{bucket}/{name}"
        if self.hashes(uri) is not None:
            return uri
        blob = self._client.bucket(bucket).blob(name, chunk_size=UPLOAD_CHUNK)
        try:
            blob.upload_from_file(
                data, size=size, content_type="application/jsonl", if_generation_match=0
            )
        except Exception as e:
            if _code(e) != 412:  # 412: a concurrent run uploaded it first
                raise _mapped(e, f"upload {uri}") from None
        return uri

    def delete_object(self, bucket: str, name: str) -> None:
        """Delete an object; one already gone is fine."""
        blob = self._client.bucket(bucket).blob(name)
        try:
            blob.delete()
        except Exception as e:
            if _code(e) != 404:
                raise _mapped(e, f"delete gs://{bucket}/{name}") from None

    def metadata_objects(self, bucket: str, prefix: str) -> dict[str, dict[str, str]]:
        """Object name (without ``prefix``) -> its custom metadata, for every object under
        ``prefix``: one listing."""

        def listing() -> dict[str, dict[str, str]]:
            return {
                blob.name[len(prefix) :]: dict(blob.metadata or {})
                for blob in self._client.list_blobs(bucket, prefix=prefix)
            }

        return self._call(listing, f"list gs://{bucket}/{prefix}")


def _make_client(endpoint: str | None, credentials: Any) -> Any:
    try:
        from google.api_core.client_info import ClientInfo
        from google.cloud import storage
    except ImportError as e:  # installed, but broken
        raise ProviderError(f"Cloud Storage: {e}; {INSTALL_HINT}") from None

    from gitops_tune import __version__

    options = {"api_endpoint": endpoint} if endpoint else None
    if endpoint and credentials is None:
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    kwargs: dict[str, Any] = {
        "credentials": credentials,
        "client_options": options,
        "client_info": ClientInfo(user_agent=f"gitops-tune/{__version__}"),  # type: ignore[no-untyped-call]
    }
    if endpoint:
        kwargs["project"] = None  # an emulator: no project to look up
    try:
        return storage.Client(**kwargs)
    except Exception as e:
        raise _mapped(e, "Cloud Storage client") from None


def _object_info(blob: Any) -> dict[str, str]:
    info = {
        "generation": str(blob.generation or ""),
        "crc32c": str(blob.crc32c or ""),
        "contentType": str(blob.content_type or ""),
        "size": str(blob.size if blob.size is not None else ""),
    }
    if blob.md5_hash:
        info["md5Hash"] = str(blob.md5_hash)
    return info


def _code(e: Exception) -> int:
    return int(getattr(e, "code", 0) or 0)


def _mapped(e: Exception, what: str) -> ProviderError:
    """google-api-core / google-auth / transport failures -> our errors, no traceback."""
    code = _code(e)
    message = getattr(e, "message", None) or str(e) or type(e).__name__
    if code:
        return status_error(f"{what}: {code}: {message}", code)
    name = type(e).__name__
    if name == "DefaultCredentialsError":
        return ProviderError(f"{what}: no Application Default Credentials; {ADC_HINT}")
    if name in _TRANSPORT:
        return TransientError(f"{what}: {name}: {message}")
    return ProviderError(f"{what}: {name}: {message}")
