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

import contextlib
import json
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from gitops_tune.backends import Hyperparameters
from gitops_tune.dataset import Example
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
from gitops_tune.providers.gcs import Storage, bucket_name
from gitops_tune.providers.gemini import _is_transport_error, _provider_error

if TYPE_CHECKING:
    from google.genai import Client, types

    from gitops_tune.settings import Settings

T = TypeVar("T")

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
PREFIX = "gitops_tune_"
L_WORKSPACE, L_NAME, L_ID = f"{PREFIX}workspace", f"{PREFIX}name", f"{PREFIX}id"
L_FP1, L_FP2, L_PROTECT = f"{PREFIX}fp1", f"{PREFIX}fp2", f"{PREFIX}protect"
STAGING_PREFIX = "gitops-tune/"
MARKERS = "gitops-tune/jobs/"
PAGE_SIZE = 100
OPERATION_POLL_S = 2.0
OPERATION_TIMEOUT_S = 600.0

_STATES = {
    "JOB_STATE_SUCCEEDED": State.ACTIVE,
    "JOB_STATE_FAILED": State.FAILED,
    "JOB_STATE_CANCELLED": State.FAILED,
    "JOB_STATE_EXPIRED": State.FAILED,
    "JOB_STATE_PARTIALLY_SUCCEEDED": State.FAILED,
}


def labels_for(owner: Owner, model_id: str) -> dict[str, str]:
    """The ownership marker as Google Cloud labels (values at most 63 characters)."""
    return {
        L_WORKSPACE: owner.workspace,
        L_NAME: owner.name,
        L_ID: model_id,
        L_FP1: owner.fingerprint[:32],
        L_FP2: owner.fingerprint[32:],
        L_PROTECT: "true" if owner.prevent_destroy else "false",
    }


def owner_from(values: Mapping[str, str]) -> Owner | None:
    """Labels (or a marker object's metadata, same keys) -> the owner; malformed: None."""
    ws, name = values.get(L_WORKSPACE, ""), values.get(L_NAME, "")
    fp = values.get(L_FP1, "") + values.get(L_FP2, "")
    if not ws or not name or len(fp) != 64 or any(c not in "0123456789abcdef" for c in fp):
        return None
    return Owner(ws, name, fp, values.get(L_PROTECT) == "true")


def to_jsonl(examples: Iterable[Example]) -> bytes:
    """Examples -> the Vertex supervised-tuning JSONL (the preamble is already in the input)."""
    lines = []
    for e in examples:
        row = {
            "contents": [
                {"role": "user", "parts": [{"text": e.text_input}]},
                {"role": "model", "parts": [{"text": e.output}]},
            ]
        }
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _later(job_time: datetime | None, marker_time: str) -> str:
    """The later of the job's update time and the marker object's, as ISO 8601 UTC."""
    times = [job_time.astimezone(timezone.utc)] if job_time else []
    if marker_time:
        with contextlib.suppress(ValueError):  # a malformed marker time is ignored
            times.append(datetime.fromisoformat(marker_time).astimezone(timezone.utc))
    return max(times).isoformat(timespec="microseconds") if times else ""


def _job_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


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
        from google import genai
        from google.genai import types as gtypes

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
        assert staging_bucket is not None
        try:
            self.bucket = bucket_name(staging_bucket)
        except ValueError as e:
            raise ProviderError(f"spec.vertex.stagingBucket: {e}") from None
        options = gtypes.HttpOptions(timeout=int(timeout_s * 1000))
        if base_url:
            options.base_url = base_url
        try:
            self._client: Client = genai.Client(
                vertexai=True,
                project=project,
                location=location,
                credentials=credentials,
                http_options=options,
            )
        except Exception as e:  # e.g. google.auth DefaultCredentialsError
            raise ProviderError(f"Vertex AI client: {type(e).__name__}: {e}") from None
        self.project, self.location = project, location
        self.storage = Storage(storage_endpoint)

    # -- transport ---------------------------------------------------------------------------

    def _call(self, call: Callable[[], T], what: str) -> T:
        from google.genai import errors

        try:
            return call()
        except errors.APIError as e:
            raise _provider_error(e, what) from None
        except ProviderError:
            raise
        except Exception as e:
            if _is_transport_error(e):
                raise TransientError(f"{what}: {type(e).__name__}: {e}") from None
            module = type(e).__module__
            if module.startswith("google.auth"):
                hint = (
                    "; run `gcloud auth application-default login` or set "
                    "GOOGLE_APPLICATION_CREDENTIALS"
                    if type(e).__name__ == "DefaultCredentialsError"
                    else ""
                )
                raise ProviderError(f"{what}: {type(e).__name__}: {e}{hint}") from None
            raise

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The SDK's HTTP layer, for what it has no method for (models, endpoints)."""
        response = self._call(
            lambda: self._client._api_client.request(method, path, body or {}),
            f"{method.upper()} {path}",
        )
        return json.loads(response.body) if response.body else {}

    # -- markers -----------------------------------------------------------------------------

    def _markers(self) -> dict[str, dict[str, str]]:
        return self.storage.metadata_objects(self.bucket, MARKERS)

    def _marker(self, job_name: str) -> dict[str, str] | None:
        return self.storage.metadata_object(self.bucket, MARKERS + _job_id(job_name))

    def _put_marker(self, job_name: str, values: dict[str, str]) -> None:
        self.storage.put_metadata_object(
            self.bucket, MARKERS + _job_id(job_name), {"job": job_name, **values}
        )

    # -- conversion --------------------------------------------------------------------------

    def _remote(self, job: types.TuningJob, marker: Mapping[str, str] | None) -> RemoteModel:
        labels = dict(job.labels or {})
        values = {**labels, **(marker or {})}
        state_name = job.state.value if job.state is not None else ""
        state = _STATES.get(state_name, State.TRAINING)
        hp = Hyperparameters()
        spec = job.supervised_tuning_spec
        if spec is not None and spec.hyper_parameters is not None:
            h = spec.hyper_parameters
            hp = Hyperparameters(
                epoch_count=int(h.epoch_count) if h.epoch_count is not None else None,
                learning_rate_multiplier=h.learning_rate_multiplier,
                adapter_size=(
                    str(getattr(h.adapter_size, "value", h.adapter_size))
                    if h.adapter_size is not None
                    else None
                ),
            )
        stats = (
            job.tuning_data_stats.supervised_tuning_data_stats if job.tuning_data_stats else None
        )
        steps = stats.tuning_step_count if stats is not None else None
        endpoint = ""
        if state is State.ACTIVE and job.tuned_model is not None:
            endpoint = job.tuned_model.endpoint or ""
        error = ""
        if job.error is not None and state is State.FAILED:
            error = ("cancelled" if state_name == "JOB_STATE_CANCELLED" else "") or (
                job.error.message or ""
            )
        return RemoteModel(
            id=job.name or "",
            display_name=values.get("displayName", job.tuned_model_display_name or ""),
            description=values.get("description", job.description or ""),
            owner=owner_from(values),
            state=state,
            base_model=job.base_model or "",
            hyperparameters=hp,
            create_time=job.create_time.isoformat() if job.create_time else "",
            update_time=_later(job.update_time, values.get("updateTime", "")),
            total_steps=int(steps) if steps is not None else None,
            endpoint=endpoint,
            error=error,
        )

    # -- Provider ----------------------------------------------------------------------------

    def _jobs(self, filter_: str) -> Iterator[types.TuningJob]:
        from google.genai import types as gtypes

        token: str | None = None
        while True:
            config = gtypes.ListTuningJobsConfig(
                filter=filter_, page_size=PAGE_SIZE, page_token=token
            )
            page = self._list_page(config)
            yield from page.tuning_jobs or []
            token = page.next_page_token
            if not token:
                return

    def _list_page(self, config: types.ListTuningJobsConfig) -> types.ListTuningJobsResponse:
        return self._call(lambda: self._client.tunings._list(config=config), "list tuningJobs")

    def list_models(self, workspace: str) -> list[RemoteModel]:
        markers = self._markers()
        found: dict[str, RemoteModel] = {}
        for job in self._jobs(f"labels.{L_WORKSPACE}={workspace}"):
            marker = markers.get(_job_id(job.name or ""))
            if marker is not None and marker.get("retired") == "true":
                continue
            model = self._remote(job, marker)
            if model.owner is not None and model.owner.workspace == workspace:
                found[model.id] = model
        # Jobs made ours later (import) carry the marker only in their marker object.
        for marker in markers.values():
            name = marker.get("job", "")
            if marker.get(L_WORKSPACE) == workspace and name and name not in found:
                if marker.get("retired") == "true":
                    continue
                adopted = self.get(name)
                if adopted is not None and adopted.owner is not None:
                    found[adopted.id] = adopted
        return sorted(found.values(), key=lambda m: m.id)

    def _get_job(self, name: str) -> types.TuningJob | None:
        try:
            return self._call(lambda: self._client.tunings.get(name=name), f"get {name}")
        except ProviderError as e:
            if e.status in (400, 404):
                return None
            raise

    def get(self, model_id: str) -> RemoteModel | None:
        name = self._name(model_id)
        job = self._get_job(name)
        if job is None:
            return None
        marker = self._marker(name)
        if marker is not None and marker.get("retired") == "true":
            return None
        return self._remote(job, marker)

    def _name(self, model_id: str) -> str:
        if model_id.startswith("projects/"):
            return model_id
        return f"projects/{self.project}/locations/{self.location}/tuningJobs/{model_id}"

    def base_model(self, name: str) -> BaseModel | None:
        bare = name.removeprefix("publishers/google/models/")
        try:
            doc = self._request("get", f"publishers/google/models/{quote(bare, safe='-._@')}")
        except ProviderError as e:
            if e.status in (400, 404):
                return None
            raise
        return BaseModel(str(doc.get("name", bare)), bare in TUNABLE_BASE_MODELS)

    def _existing(self, new: NewModel) -> RemoteModel | None:
        """A live job with this create's ID label (a lost answer, a concurrent run)."""
        markers: dict[str, dict[str, str]] | None = None
        ws = new.owner.workspace
        for job in self._jobs(f"labels.{L_WORKSPACE}={ws} AND labels.{L_ID}={new.model_id}"):
            if markers is None:
                markers = self._markers()
            marker = markers.get(_job_id(job.name or ""))
            if marker is not None and marker.get("retired") == "true":
                continue
            model = self._remote(job, marker)
            if model.state is not State.FAILED:
                return model
        return None

    def _stage(self, ref: DatasetRef | None, examples: Callable[[], Iterator[Example]]) -> str:
        if ref is not None and ref.uri:
            return ref.uri
        key = ref.key if ref is not None else ""
        stream = ref.examples if ref is not None and ref.examples is not None else examples
        if not key:
            raise ProviderError("internal: a staged dataset needs a content key")
        return self.storage.upload_once(
            self.bucket, f"{STAGING_PREFIX}{key}.jsonl", lambda: to_jsonl(stream())
        )

    def create(self, new: NewModel) -> RemoteModel:
        from google.genai import types as gtypes

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
        training_uri = self._stage(training, new.examples)
        validation_uri = (
            self._stage(new.validation, new.examples) if new.validation is not None else None
        )
        hp = new.hyperparameters
        config = gtypes.CreateTuningJobConfig(
            tuned_model_display_name=new.display_name,
            description=new.description or None,
            labels=labels_for(new.owner, new.model_id),
            epoch_count=hp.epoch_count,
            learning_rate_multiplier=hp.learning_rate_multiplier,
            adapter_size=hp.adapter_size,  # type: ignore[arg-type]
            validation_dataset=(
                gtypes.TuningValidationDataset(gcs_uri=validation_uri) if validation_uri else None
            ),
        )
        dataset = gtypes.TuningDataset(gcs_uri=training_uri)

        def tune() -> types.TuningJob:
            with warnings.catch_warnings():  # "tuning is experimental": not the user's concern
                warnings.simplefilter("ignore")
                created: types.TuningJob = self._client.tunings.tune(
                    base_model=new.base_model, training_dataset=dataset, config=config
                )
                return created

        job = self._call(tune, f"create tuning job {new.model_id}")
        return self._remote(job, None)

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
        self.storage.put_metadata_object(
            self.bucket, MARKERS + _job_id(name), {"job": name, **values}
        )

    def cancel(self, model_id: str) -> None:
        name = self._name(model_id)
        try:
            self._call(lambda: self._client.tunings.cancel(name=name), f"cancel {name}")
        except ProviderError as e:
            if e.status not in (400, 404):  # already finished (FAILED_PRECONDITION) or gone
                raise

    def delete(self, model_id: str) -> None:
        """Stop the job, remove its tuned model and endpoint, then retire it."""
        name = self._name(model_id)
        job = self._get_job(name)
        if job is None:
            return
        if _STATES.get(job.state.value if job.state else "", State.TRAINING) is State.TRAINING:
            self.cancel(name)
        tuned = job.tuned_model
        if tuned is not None and tuned.endpoint:
            self._delete_endpoint(tuned.endpoint)
        if tuned is not None and tuned.model:
            model_name = _bare(tuned.model)
            self._ignore_missing(lambda: self._wait(self._request("delete", model_name)))
        self._put_marker(name, {"retired": "true"})

    def _delete_endpoint(self, endpoint: str) -> None:
        try:
            doc = self._request("get", endpoint)
        except ProviderError as e:
            if e.status == 404:
                return
            raise
        for deployed in doc.get("deployedModels", []):
            self._undeploy(endpoint, str(deployed["id"]))
        self._ignore_missing(lambda: self._wait(self._request("delete", endpoint)))

    def _undeploy(self, endpoint: str, deployed_id: str) -> None:
        body = {"deployedModelId": deployed_id}
        self._ignore_missing(
            lambda: self._wait(self._request("post", f"{endpoint}:undeployModel", body))
        )

    @staticmethod
    def _ignore_missing(call: Callable[[], object]) -> None:
        try:
            call()
        except ProviderError as e:
            if e.status != 404:
                raise

    def _wait(self, operation: Mapping[str, Any]) -> None:
        """Follow a long-running operation to its end; its error becomes a ProviderError."""
        deadline = time.monotonic() + OPERATION_TIMEOUT_S
        op = dict(operation)
        while not op.get("done"):
            if time.monotonic() > deadline:
                raise TransientError(f"{op.get('name')}: still running")
            time.sleep(OPERATION_POLL_S)
            op = self._request("get", str(op["name"]))
        error = op.get("error")
        if error:
            raise ProviderError(f"{op.get('name')}: {error.get('message', error)}")


def _bare(model: str) -> str:
    """``.../models/123@1`` -> ``.../models/123`` (delete the model, every version)."""
    return model.split("@", 1)[0]


def open(settings: Settings) -> VertexProvider:
    """Vertex AI where the Workspace (or the environment) says."""
    target = settings.vertex
    return VertexProvider(target.project, target.location, target.staging_bucket)
