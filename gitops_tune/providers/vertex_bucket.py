"""The Vertex provider's staging bucket: datasets uploaded once under content-addressed names,
and one marker object per tuning job (``gs://{bucket}/gitops-tune/jobs/{job id}``) whose custom
metadata says what changed after the job was created (tuning jobs are immutable)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from gitops_tune.dataset import Example
from gitops_tune.providers.base import DatasetRef, ProviderError
from gitops_tune.providers.sdk_storage import Storage
from gitops_tune.providers.vertex_jobs import job_id, to_jsonl

STAGING_PREFIX = "gitops-tune/"
MARKERS = "gitops-tune/jobs/"


class StagingBucket:
    def __init__(self, storage: Storage, bucket: str) -> None:
        self.storage = storage
        self.bucket = bucket

    def markers(self) -> dict[str, dict[str, str]]:
        """Job ID -> its marker object's values, in one listing."""
        return self.storage.metadata_objects(self.bucket, MARKERS)

    def marker(self, job_name: str) -> dict[str, str] | None:
        return self.storage.metadata_object(self.bucket, MARKERS + job_id(job_name))

    def put_marker(self, job_name: str, values: dict[str, str]) -> None:
        self.storage.put_metadata_object(
            self.bucket, MARKERS + job_id(job_name), {"job": job_name, **values}
        )

    def stage(self, ref: DatasetRef | None, examples: Callable[[], Iterator[Example]]) -> str:
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
