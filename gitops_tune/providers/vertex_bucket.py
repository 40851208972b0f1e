"""The Vertex provider's staging bucket: training data uploaded once under content-addressed
names (the sha256 of the JSONL itself, so a job that differs only in its hyperparameters or
base model reuses the object), streamed through a temporary file (never held in memory whole),
removed again when no job needs it; and the index that earlier
versions kept under ``gs://{bucket}/gitops-tune/jobs/`` (one object per job whose custom
metadata said what changed after the job was created), read only to move its facts onto the
tuned models."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator

from gitops_tune.dataset import Record
from gitops_tune.providers.base import DatasetRef, ProviderError
from gitops_tune.providers.sdk_storage import Storage, parse_uri
from gitops_tune.providers.vertex_jobs import jsonl_lines

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
        """The dataset's ``gs://`` URI: its own, or the Vertex JSONL uploaded once under the
        sha256 of its bytes. The model's fingerprint also covers the base model and the
        hyperparameters; the staged object's name covers the examples only, so a change of
        hyperparameters alone trains from the object already staged."""
        if ref is not None and ref.uri:
            return ref.uri
        stream = ref.examples if ref is not None and ref.examples is not None else examples
        # Spooled to a temporary file, never held whole: a training file may be 1 GB. The
        # name is the sha256 of these very bytes, known once the last line is written.
        with tempfile.TemporaryFile(prefix="gitops-tune-staged-") as spool:
            digest, size = hashlib.sha256(), 0
            for line in jsonl_lines(stream()):
                spool.write(line)
                digest.update(line)
                size += len(line)
            if size == 0:
                raise ProviderError("internal: a staged dataset holds no examples")
            spool.seek(0)
            name = f"{STAGING_PREFIX}{digest.hexdigest()}.jsonl"
            return self.storage.upload_file_once(self.bucket, name, spool, size)

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
