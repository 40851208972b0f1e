"""The Vertex AI provider: supervised ``tuningJobs`` through google-genai in vertex mode.

Identity and ownership (see docs/vertex.md):
- A create labels the job ``gitops_tune_workspace``, ``gitops_tune_name``, ``gitops_tune_id``
  (the deterministic ``{name}-{9 hex}``), ``gitops_tune_fp1``/``gitops_tune_fp2`` (the 64-hex
  fingerprint in two 32-hex halves) and ``gitops_tune_protect``. Listing filters on the
  workspace label. Vertex has no client-chosen job ID, so before every create the job is
  looked up by its ID label and adopted: a create whose answer was lost is never duplicated.
- Tuning jobs can be neither updated nor deleted. What changes later (display name,
  description, the marker after an update or an import, and "this job was deleted") is kept
  in a marker object per job, ``gs://{stagingBucket}/gitops-tune/jobs/{job id}``, whose custom
  metadata overrides the labels. Deleting a job cancels it if it runs, undeploys and deletes
  its tuned model and endpoint, and writes a ``retired`` marker, after which it is invisible.

Datasets: local and inline examples become the Vertex supervised-tuning JSONL (a ``user``
turn with ``preamble + input``, a ``model`` turn with the output) uploaded once to
``gs://{stagingBucket}/gitops-tune/{key}.jsonl``; ``gs://`` sources are used in place.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gitops_tune.providers.base import (
    BaseModel,
    DatasetRef,
    NewModel,
    Owner,
    ProviderError,
    RemoteModel,
    State,
    TransientError,
)
from gitops_tune.providers.sdk_genai import (
    GONE_OR_INVALID,
    Genai,
    TuneRequest,
    TuningJob,
    or_none,
)
from gitops_tune.providers.sdk_storage import Storage, bucket_name
from gitops_tune.providers.vertex_bucket import StagingBucket
from gitops_tune.providers.vertex_jobs import (
    L_ID,
    L_WORKSPACE,
    job_id,
    job_state,
    labels_for,
    retired,
    to_remote,
)

if TYPE_CHECKING:
    from gitops_tune.settings import Settings

#: Base models Vertex AI supervised tuning accepts (Vertex AI "supported models" for Gemini
#: supervised fine-tuning); `base_model` also checks that the publisher model exists.
TUNABLE_BASE_MODELS = frozenset(
    {
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-2.0-flash-001",
        "gemini-2.0-flash-lite-001",
    }
)
PAGE_SIZE = 100
OPERATION_POLL_S = 2.0
OPERATION_TIMEOUT_S = 600.0


class VertexProvider:
    tuning_hint = "Vertex AI supervised tuning supports " + ", ".join(sorted(TUNABLE_BASE_MODELS))

    def __init__(
        self,
        project: str | None,
        location: str | None,
        staging_bucket: str | None,
        *,
        credentials: Any = None,
        base_url: str | None = None,
        storage_endpoint: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        missing = [
            what
            for what, value in (
                ("a project (spec.vertex.project or GOOGLE_CLOUD_PROJECT)", project),
                ("a location (spec.vertex.location or GOOGLE_CLOUD_LOCATION)", location),
                (
                    "a staging bucket (spec.vertex.stagingBucket or GITOPS_TUNE_STAGING_BUCKET)",
                    staging_bucket,
                ),
            )
            if not value
        ]
        if missing:
            raise ProviderError(f"the vertex backend needs {', '.join(missing)}")
        assert project is not None and location is not None and staging_bucket is not None
        try:
            bucket = bucket_name(staging_bucket)
        except ValueError as e:
            raise ProviderError(f"spec.vertex.stagingBucket: {e}") from None
        self.sdk = Genai.vertex(project, location, credentials, base_url, timeout_s)
        self.project, self.location = project, location
        self.staging = StagingBucket(Storage(storage_endpoint), bucket)

    # -- reading -----------------------------------------------------------------------------

    def _jobs(self, filter_: str) -> Iterator[TuningJob]:
        return self.sdk.tuning_jobs(filter_, PAGE_SIZE)

    def _get_job(self, name: str) -> TuningJob | None:
        return or_none(partial(self.sdk.tuning_job, name), GONE_OR_INVALID)

    def _name(self, model_id: str) -> str:
        if model_id.startswith("projects/"):
            return model_id
        return f"projects/{self.project}/locations/{self.location}/tuningJobs/{model_id}"

    def list_models(self, workspace: str) -> list[RemoteModel]:
        markers = self.staging.markers()
        found: dict[str, RemoteModel] = {}
        for job in self._jobs(f"labels.{L_WORKSPACE}={workspace}"):
            marker = markers.get(job_id(job.name))
            if retired(marker):
                continue
            model = to_remote(job, marker)
            if model.owner is not None and model.owner.workspace == workspace:
                found[model.id] = model
        # Jobs made ours later (import) carry the marker only in their marker object.
        for marker in markers.values():
            name = marker.get("job", "")
            if marker.get(L_WORKSPACE) != workspace or not name or name in found:
                continue
            adopted = None if retired(marker) else self.get(name)
            if adopted is not None and adopted.owner is not None:
                found[adopted.id] = adopted
        return sorted(found.values(), key=lambda m: m.id)

    def get(self, model_id: str) -> RemoteModel | None:
        name = self._name(model_id)
        job = self._get_job(name)
        if job is None:
            return None
        marker = self.staging.marker(name)
        return None if retired(marker) else to_remote(job, marker)

    def base_model(self, name: str) -> BaseModel | None:
        bare = name.removeprefix("publishers/google/models/")
        path = f"publishers/google/models/{quote(bare, safe='-._@')}"
        doc = or_none(partial(self.sdk.request, "get", path), GONE_OR_INVALID)
        if doc is None:
            return None
        return BaseModel(str(doc.get("name", bare)), bare in TUNABLE_BASE_MODELS)

    # -- writing -----------------------------------------------------------------------------

    def _existing(self, new: NewModel) -> RemoteModel | None:
        """A live job with this create's ID label (a lost answer, a concurrent run)."""
        markers: dict[str, dict[str, str]] | None = None
        ws = new.owner.workspace
        for job in self._jobs(f"labels.{L_WORKSPACE}={ws} AND labels.{L_ID}={new.model_id}"):
            if markers is None:
                markers = self.staging.markers()
            marker = markers.get(job_id(job.name))
            if retired(marker):
                continue
            model = to_remote(job, marker)
            if model.state is not State.FAILED:
                return model
        return None

    def create(self, new: NewModel) -> RemoteModel:
        existing = self._existing(new)
        if existing is not None:
            if existing.owner != new.owner:
                raise ProviderError(
                    f"{existing.id} carries ID {new.model_id} but is not this manifest's model "
                    f"(owner {existing.owner}); refusing to adopt it",
                    409,
                )
            return existing
        training = new.training or DatasetRef(new.owner.fingerprint)
        hp = new.hyperparameters
        request = TuneRequest(
            base_model=new.base_model,
            training_uri=self.staging.stage(training, new.examples),
            validation_uri=(
                self.staging.stage(new.validation, new.examples)
                if new.validation is not None
                else None
            ),
            display_name=new.display_name,
            description=new.description or None,
            labels=labels_for(new.owner, new.model_id),
            epoch_count=hp.epoch_count,
            learning_rate_multiplier=hp.learning_rate_multiplier,
            adapter_size=hp.adapter_size,
        )
        return to_remote(self.sdk.tune(request, f"create tuning job {new.model_id}"), None)

    def update(self, model_id: str, display_name: str, description: str, owner: Owner) -> None:
        """Tuning jobs are immutable: the new values go to the job's marker object."""
        name = self._name(model_id)
        if self._get_job(name) is None:
            raise ProviderError(f"{name} not found", 404)
        values = {k: v for k, v in labels_for(owner, "").items() if k != L_ID}
        values |= {
            "displayName": display_name,
            "description": description,
            # The job's own updateTime never moves; the planner orders models by update time
            # (a restore makes a previous model the most recently updated one).
            "updateTime": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        }
        self.staging.put_marker(name, values)

    def cancel(self, model_id: str) -> None:
        # 400/404: already finished (FAILED_PRECONDITION) or gone
        or_none(partial(self.sdk.cancel_tuning_job, self._name(model_id)), GONE_OR_INVALID)

    def delete(self, model_id: str) -> None:
        """Stop the job, remove its tuned model and endpoint, then retire it."""
        name = self._name(model_id)
        job = self._get_job(name)
        if job is None:
            return
        if job_state(job) is State.TRAINING:
            self.cancel(name)
        if job.endpoint:
            self._delete_endpoint(job.endpoint)
        if job.tuned_model:  # ``.../models/123@1`` -> ``.../models/123``: every version
            or_none(partial(self._operation, "delete", job.tuned_model.split("@", 1)[0]))
        self.staging.put_marker(name, {"retired": "true"})

    def _delete_endpoint(self, endpoint: str) -> None:
        doc = or_none(partial(self.sdk.request, "get", endpoint))
        if doc is None:
            return
        for deployed in doc.get("deployedModels", []):
            body = {"deployedModelId": str(deployed["id"])}
            or_none(partial(self._operation, "post", f"{endpoint}:undeployModel", body))
        or_none(partial(self._operation, "delete", endpoint))

    def _operation(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        """A request that starts a long-running operation, followed to its end; the
        operation's error becomes a ProviderError."""
        op: Mapping[str, Any] = self.sdk.request(method, path, body)
        deadline = time.monotonic() + OPERATION_TIMEOUT_S
        while not op.get("done"):
            if time.monotonic() > deadline:
                raise TransientError(f"{op.get('name')}: still running")
            time.sleep(OPERATION_POLL_S)
            op = self.sdk.request("get", str(op["name"]))
        error = op.get("error")
        if error:
            raise ProviderError(f"{op.get('name')}: {error.get('message', error)}")


def open(settings: Settings) -> VertexProvider:
    """Vertex AI where the Workspace (or the environment) says."""
    target = settings.vertex
    return VertexProvider(target.project, target.location, target.staging_bucket)
