"""The Vertex provider's staging bucket: training data uploaded once under content-addressed
names, removed again when no job needs it; and the index that earlier versions kept under
``gs://{bucket}/gitops-tune/jobs/`` (one object per job whose custom metadata said what changed
after the job was created), read only to move its facts onto the tuned models."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from gitops_tune.dataset import Record
from gitops_tune.providers.base import DatasetRef, ProviderError
from gitops_tune.providers.sdk_storage import Storage, parse_uri
from gitops_tune.providers.vertex_jobs import to_jsonl

STAGING_PREFIX = "gitops-tune/"
LEGACY_INDEX = "gitops-tune/jobs/"


class StagingBucket:
    def __init__(self, storage: Storage, bucket: str) -> None:
        self.storage = storage
        self.bucket = bucket

    def legacy_index(self) -> dict[str, dict[str, str]]:
        """Job ID -> what the earlier index said about it, in one listing."""
        return self.storage.metadata_objects(self.bucket, LEGACY_INDEX)

    def stage(self, ref: DatasetRef | None, examples: Callable[[], Iterator[Record]]) -> str:
        """The dataset's ``gs://`` URI: its own, or the Vertex JSONL uploaded once."""
        if ref is not None and ref.uri:
            return ref.uri
        key = ref.key if ref is not None else ""
        stream = ref.examples if ref is not None and ref.examples is not None else examples
        if not key:
            raise ProviderError("internal: a staged dataset needs a content key")
        return self.storage.upload_once(
            self.bucket, f"{STAGING_PREFIX}{key}.jsonl", lambda: to_jsonl(stream())
        )

    def staged(self, uri: str) -> bool:
        """Whether ``uri`` is data this tool staged (and so may remove)."""
        try:
            bucket, name = parse_uri(uri)
        except ValueError:
            return False
        return (
            bucket == self.bucket
            and name.startswith(STAGING_PREFIX)
            and not name.startswith(LEGACY_INDEX)
            and name.endswith(".jsonl")
        )

    def remove(self, uri: str) -> None:
        bucket, name = parse_uri(uri)
        self.storage.delete_object(bucket, name)
