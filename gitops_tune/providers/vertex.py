"""The Vertex AI provider: supervised ``tuningJobs`` through google-genai in vertex mode.

Everything the tool knows lives on Google's own resources (see docs/vertex.md):
- Ownership and the fingerprint are labels set on the job at create (``gitops_tune_workspace``,
  ``_name``, ``_id``, ``_fp1``/``_fp2``, ``_protect``); the job's labels also label the tuned
  Model it produces. Vertex has no client-chosen job ID, so before every create the job is
  looked up by its ID label and adopted: a create whose answer was lost is never duplicated.
- Tuning jobs can be neither updated nor deleted; what changes later (display name,
  description, protection, "restored", "retired") is written onto the tuned Model with
  ``models.patch`` (and onto its Endpoint with ``endpoints.patch``).
- A job whose Model is gone or labelled retired is dead: invisible. A succeeded job whose Model
  is no longer deployed to its Endpoint is broken (FAILED), so the planner trains it again.
- A plan costs two listings: tuning jobs and models, each filtered on the workspace label and
  checked again client-side. Nothing is read per model.

Datasets: local and inline examples become the Vertex supervised-tuning JSONL, uploaded once to
``gs://{stagingBucket}/gitops-tune/{key}.jsonl`` and removed when no job needs it any more;
``gs://`` sources are used in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gitops_tune.providers import vertex_migrate
from gitops_tune.providers.answers import GONE_OR_INVALID, or_none
from gitops_tune.providers.base import (
    BaseModel,
    Contents,
    DatasetRef,
    Migration,
    NewModel,
    Owner,
    Prompt,
    ProviderError,
    RemoteModel,
    Scores,
    State,
)
from gitops_tune.providers.sdk_genai import Genai
from gitops_tune.providers.sdk_storage import Storage, bucket_name
from gitops_tune.providers.tuning_job import TuneRequest, TuningJob
from gitops_tune.providers.vertex_bucket import StagingBucket
from gitops_tune.providers.vertex_jobs import (
    ENDED_BADLY,
    L_ID,
    L_JOB,
    L_SCHEMA,
    L_UPDATED,
    L_WORKSPACE,
    SCHEMA,
    SUCCEEDED,
    TunedModelInfo,
    checkpoint_for,
    job_id,
    judge,
    labels_for,
    model_name,
    now_label,
    owner_from,
    resolve,
    score_labels,
    scores_from,
    to_remote,
    without_scores,
)
from gitops_tune.providers.vertex_models import Models

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
#: Asked for per page; a server may answer fewer (AIP-158), the paging follows its tokens.
PAGE_SIZE = 1000


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
        poll_s: float = 2.0,
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
        self.models = Models(self.sdk, PAGE_SIZE, poll_s)
        self.notices: list[str] = []  # said once per run (the session prints them)
        self.pending: vertex_migrate.Pending | None = None  # what the last listing read

    # -- reading -----------------------------------------------------------------------------

    def _jobs(self, filter_: str) -> Iterator[TuningJob]:
        return self.sdk.tuning_jobs(filter_, PAGE_SIZE)

    def _get_job(self, name: str) -> TuningJob | None:
        return or_none(partial(self.sdk.tuning_job, name), GONE_OR_INVALID)

    def _name(self, model_id: str) -> str:
        if model_id.startswith("projects/"):
            return model_id
        return f"projects/{self.project}/locations/{self.location}/tuningJobs/{model_id}"

    def workspace_jobs(self, workspace: str, *terms: str) -> list[TuningJob]:
        """Jobs the label filter returns, checked again here: the filter is not trusted alone."""
        wanted = dict(t.split("=", 1) for t in (f"{L_WORKSPACE}={workspace}", *terms))
        query = " AND ".join(f"labels.{k}={v}" for k, v in wanted.items())
        return [
            j for j in self._jobs(query) if all(j.labels.get(k) == v for k, v in wanted.items())
        ]

    def list_models(self, workspace: str) -> list[RemoteModel]:
        pool = ThreadPoolExecutor(1)  # the two listings' round trips overlap
        try:
            listing = pool.submit(self.models.list, workspace)
            jobs = self.workspace_jobs(workspace)
            models = listing.result()
        finally:  # a failed jobs listing does not wait for the models
            pool.shutdown(wait=False, cancel_futures=True)
        self.pending = vertex_migrate.read(self.staging, jobs, models)
        listed = {j.name for j in jobs}
        # Jobs made ours later (import) are marked on their Model only.
        for m in models.values():
            name = self._name(m.labels[L_JOB]) if m.labels.get(L_JOB) else ""
            if name and name not in listed:
                job = self._get_job(name)
                if job is not None and model_name(job) == m.name:
                    jobs.append(job)
        return sorted(resolve(jobs, models, workspace), key=lambda m: m.id)

    def migration(self) -> Migration | None:
        return self.pending.migration() if self.pending is not None else None

    def migrate(self) -> None:
        """Write what the last listing read from the old index onto the tuned models."""
        pending, self.pending = self.pending, None
        if pending is not None:
            self.notices += vertex_migrate.write(self.models, pending)

    def listing_state(self) -> dict[str, Any] | None:
        return vertex_migrate.dump(self.pending)

    def adopt_listing_state(self, state: Any) -> None:
        self.pending = vertex_migrate.load(state)

    def get(self, model_id: str) -> RemoteModel | None:
        job = self._get_job(self._name(model_id))
        if job is None:
            return None
        model = self.models.get(job.tuned_model) if job.tuned_model else None
        verdict = judge(job, model, newest=True)
        return None if verdict.state is None else to_remote(job, model, verdict)

    def base_model(self, name: str) -> BaseModel | None:
        bare = name.removeprefix("publishers/google/models/")
        path = f"publishers/google/models/{quote(bare, safe='-._@')}"
        doc = or_none(partial(self.sdk.request, "get", path), GONE_OR_INVALID)
        if doc is None:
            return None
        return BaseModel(str(doc.get("name", bare)), bare in TUNABLE_BASE_MODELS)

    # -- writing -----------------------------------------------------------------------------

    def _existing(self, new: NewModel) -> RemoteModel | None:
        """A live job with this create's ID label (a lost answer, a concurrent run): training,
        or succeeded with its Model still ours, not retired, and serving."""
        for job in self.workspace_jobs(new.owner.workspace, f"{L_ID}={new.model_id}"):
            if job.state in ENDED_BADLY:
                continue
            model = None
            if job.state == SUCCEEDED:
                model = self.models.get(job.tuned_model) if job.tuned_model else None
                if model is None or model.labels.get(L_WORKSPACE) != new.owner.workspace:
                    continue
            verdict = judge(job, model, newest=True)
            if verdict.state in (State.TRAINING, State.ACTIVE):
                return to_remote(job, model, verdict)
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
            options=new.options,
        )
        job = self.sdk.tune(request, f"create tuning job {new.model_id}")
        model = self.models.get(job.tuned_model) if job.tuned_model else None
        verdict = judge(job, model, newest=True)
        if verdict.state is None:
            raise ProviderError(f"{job.name}: created, but its tuned model is already gone")
        return to_remote(job, model, verdict)

    def update(
        self,
        model_id: str,
        display_name: str,
        description: str,
        owner: Owner,
        serving: str = "",
    ) -> None:
        """Write the display name, description and marker onto the job's Model and Endpoint
        (``models.patch``, ``endpoints.patch``), and the checkpoint ``serving`` names as the
        Model version's ``defaultCheckpointId``. A job still training has no Model yet: the
        next plan after it succeeds asks again."""
        name = self._name(model_id)
        job = self._get_job(name)
        if job is None:
            raise ProviderError(f"{name} not found", 404)
        model = self.models.get(job.tuned_model) if job.tuned_model else None
        if model is None:
            if job.state == SUCCEEDED:
                raise ProviderError(f"{name}: its tuned model {job.tuned_model} is gone", 404)
            if owner_from(job.labels) is None:
                raise ProviderError(
                    f"{name} has no tuned model yet: its ownership can only be written onto "
                    "its Model, so import it once the job has succeeded",
                    409,
                )
            return
        labels = {**model.labels, **labels_for(owner, job.labels.get(L_ID, ""))}
        labels |= {L_UPDATED: now_label(), L_SCHEMA: SCHEMA, L_JOB: job_id(job.name)}
        fields = {
            "displayName": display_name,
            "description": description,
            "labels": {k: v for k, v in labels.items() if v},
        }
        self.models.patch(model.name, fields)
        if job.endpoint:
            or_none(partial(self.models.patch, job.endpoint, fields))
        if serving and job.state == SUCCEEDED:
            self._serve(job, model, serving)

    def _serve(self, job: TuningJob, model: TunedModelInfo, serving: str) -> None:
        """Make the checkpoint ``serving`` names the one the endpoint serves: ``models.patch``
        of the tuned model version's ``defaultCheckpointId`` (model.proto), as google-genai's
        ``models.update(config=UpdateModelConfig(default_checkpoint_id=...))`` does."""
        if serving == "best":  # the epoch apply --wait scored best, kept on the Model's labels
            chosen = scores_from(model.labels)
            if chosen is None or not chosen.best:
                return
            serving = str(chosen.best)
        wanted = checkpoint_for(job, serving)
        if not wanted:
            have = ", ".join(str(c.epoch) for c in job.checkpoints) or "none"
            raise ProviderError(
                f"{job.name}: no checkpoint for epoch {serving} (checkpoints at epochs: {have})",
                400,
            )
        if wanted != model.default_checkpoint:
            self.models.patch(job.tuned_model, {"defaultCheckpointId": wanted}, version=True)

    def record_scores(self, model_id: str, scores: Scores) -> None:
        """The outcome as labels on the job's Model (``models.patch``), the rest kept."""
        name = self._name(model_id)
        job = self._get_job(name)
        model = self.models.get(job.tuned_model) if job is not None and job.tuned_model else None
        if model is None:
            raise ProviderError(f"{name}: no tuned model to label", 404)
        labels = {**without_scores(model.labels), **score_labels(scores)}
        self.models.patch(model.name, {"labels": labels})

    def generate(self, model: RemoteModel, prompt: Prompt) -> tuple[str, int]:
        """``generateContent`` on the tuned model's endpoint, as Google's tuning guide calls it."""
        if not model.endpoint:
            raise ProviderError(f"{model.id} has no endpoint to ask", 400)
        return self.sdk.generate(model.endpoint, prompt)

    def cancel(self, model_id: str) -> None:
        # 400/404: already finished (FAILED_PRECONDITION) or gone
        or_none(partial(self.sdk.cancel_tuning_job, self._name(model_id)), GONE_OR_INVALID)

    def delete(self, model_id: str) -> None:
        """Stop the job, undeploy its Model and delete its Endpoint, delete the Model (or, when
        Vertex AI refuses, label it retired), then remove staged data no job needs."""
        name = self._name(model_id)
        job = self._get_job(name)
        if job is None:
            return
        if judge(job, None, newest=True).state is State.TRAINING:
            self.cancel(name)
        if job.tuned_model:
            model = self.models.get(job.tuned_model)
            endpoints = {job.endpoint, *job.checkpoint_endpoints}
            endpoints |= set(model.endpoints if model is not None else ())
            if not self.models.retire(model_name(job), endpoints):
                self.notices.append(
                    f"Vertex AI refused to delete {model_name(job)}: it was undeployed, its "
                    "endpoint deleted and the model labelled gitops_tune_retired=true"
                )
        self._remove_staged(job)

    def count_tokens(self, base_model: str, contents: Contents, resolution: str | None) -> int:
        """The publisher model's ``countTokens`` (``models.count_tokens`` in Vertex AI mode:
        ``publishers/google/models/{model}:countTokens`` under the project and location)."""
        return self.sdk.count_tokens(base_model, contents, resolution)

    def _remove_staged(self, gone: TuningJob) -> None:
        """Remove the job's staged data unless another managed job may still need it: one
        that trains, or whose Model still exists."""
        uris = {u for u in (gone.training_uri, gone.validation_uri) if self.staging.staged(u)}
        if not uris:
            return
        others = [j for j in self._jobs(f"labels.{L_WORKSPACE}:*") if j.name != gone.name]
        needed = {
            u
            for j in others
            if j.state not in ENDED_BADLY and j.state != SUCCEEDED
            for u in (j.training_uri, j.validation_uri)
        }
        if uris - needed:
            alive = {m.name for m in _all_models(self.models, others)}
            needed |= {
                u
                for j in others
                if model_name(j) in alive
                for u in (j.training_uri, j.validation_uri)
            }
        for uri in sorted(uris - needed):
            self.staging.remove(uri)


def _all_models(models: Models, jobs: Iterable[TuningJob]) -> list[TunedModelInfo]:
    """The Models of ``jobs`` that still exist, one ``models.list`` per workspace involved."""
    workspaces = {j.labels.get(L_WORKSPACE, "") for j in jobs if j.tuned_model}
    return [m for ws in sorted(workspaces - {""}) for m in models.list(ws).values()]


def open(settings: Settings) -> VertexProvider:
    """Vertex AI where the Workspace (or the environment) says."""
    target = settings.vertex
    return VertexProvider(
        target.project, target.location, target.staging_bucket, poll_s=settings.poll_s
    )
