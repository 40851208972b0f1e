"""The provider boundary: what the engine needs from a tuning backend, and nothing more.

Only the SDK seams (``sdk_genai``, ``sdk_storage``) import an SDK. Everything providers return is
plain frozen data, so the planner and its tests never see an SDK object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec

from gitops_tune.backends import Hyperparameters
from gitops_tune.providers.tuning_evaluation import (
    TuningEvaluation,
    TuningEvaluationRun,
)

if TYPE_CHECKING:  # the list helper (`commands.listing`) never loads the dataset package
    from gitops_tune.dataset import Record

T = TypeVar("T")


class State(str, Enum):
    """A tuned model's lifecycle, the same on every backend."""

    TRAINING = "TRAINING"  # Gemini API CREATING; Vertex PENDING/RUNNING/QUEUED
    ACTIVE = "ACTIVE"  # Gemini API ACTIVE; Vertex SUCCEEDED
    FAILED = "FAILED"  # Gemini API FAILED; Vertex FAILED/CANCELLED/EXPIRED/CANCELLING, or broken


@dataclass(frozen=True)
class Owner:
    """The ownership marker a managed model carries: no state file, the model says whose it is."""

    workspace: str
    name: str
    fingerprint: str
    prevent_destroy: bool = False  # carried so a removed manifest still protects its model


class Snapshot(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    """One point of the loss curve; decoded straight from Google's REST JSON (camelCase), as a
    list of 1,000 models carries 150,000 of them."""

    step: int = 0
    epoch: int = 0
    mean_loss: float = 0.0


VERDICTS = ("passed", "rejected", "scored")  # scored: measured as the baseline to beat


@dataclass(frozen=True)
class Scores:
    """An evaluation's outcome, kept in the model's marker (where the backend keeps markers):
    which evaluation (``key``), the score, and the verdict it had when it was measured."""

    key: str  # `EvaluationSpec.key`: 12 hex digits
    score: float  # 0..1, kept to 4 decimals
    verdict: str  # one of VERDICTS
    #: ``serving.checkpoint: best``: each checkpoint's score, (epoch, score) by epoch, and the
    #: epoch chosen (its score is ``score``); empty and 0 otherwise
    checkpoints: tuple[tuple[int, float], ...] = ()
    best: int = 0

    def best_line(self) -> str:
        """ "checkpoint best = epoch 2 (score 0.9000; epochs: 1=0.5000, 2=0.9000)"; "" when no
        checkpoint was chosen."""
        if not self.best:
            return ""
        each = ", ".join(f"{e}={s:.4f}" for e, s in self.checkpoints)
        return f"checkpoint best = epoch {self.best} (score {self.score:.4f}; epochs: {each})"


@dataclass(frozen=True)
class Turns:
    """A multi-turn prompt in the Gemini chat format, as REST JSON (camelCase): the
    ``contents`` up to the turn the model is to answer, and the row's ``systemInstruction``
    and ``generationConfig`` where it has them."""

    contents: tuple[Mapping[str, Any], ...]
    system_instruction: Mapping[str, Any] | None = None
    generation_config: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, prompt: str) -> Turns:
        """From a conversation's ``prompt`` (`gitops_tune.dataset.Conversation`)."""
        row = json.loads(prompt)
        contents = tuple(row["contents"])
        return cls(contents, row.get("systemInstruction"), row.get("generationConfig"))


#: What a tuned model is asked: a single text (a pair's input), or a conversation's turns.
Prompt = str | Turns


@dataclass(frozen=True)
class DataStats:
    """What a tuning job reports of its training data, for every method alike (Vertex AI's
    ``tuningDataStats``: ``supervisedTuningDataStats``, ``preferenceOptimizationDataStats``,
    ``reinforcementTuningDataStats``, ``distillationDataStats.trainingDatasetStats``); None
    where the job leaves a value out."""

    method: str  # "supervised", "preference", "reinforcement" or "distillation"
    examples: int | None = None  # tuningDatasetExampleCount
    steps: int | None = None  # tuningStepCount
    billable_tokens: int | None = None  # totalBillableTokenCount (supervised, preference)
    billable_characters: int | None = None  # totalBillableCharacterCount (the others)
    dropped: tuple[tuple[int, str], ...] = ()  # a sample: (example index from 1, why)

    def summary(self) -> str:
        """One line: "20 examples, 6 steps, 3,360 characters billed, 1 dropped (3: why)"."""
        counts = ((self.examples, "examples"), (self.steps, "steps"))
        parts = [f"{n:,} {what}" for n, what in counts if n is not None]
        if self.billable_characters is not None:
            parts.append(f"{self.billable_characters:,} characters billed")
        if self.dropped:
            index, why = self.dropped[0]
            more = f" (example {index}: {why})" if why else f" (example {index})"
            parts.append(f"{len(self.dropped)} dropped{more}")
        return ", ".join(parts) if parts else "-"

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "examples": self.examples,
            "steps": self.steps,
            "billable_tokens": self.billable_tokens,
            "billable_characters": self.billable_characters,
            "dropped": [{"example": i, "reason": why} for i, why in self.dropped],
        }


@dataclass(frozen=True)
class TrainingOptions:
    """How a training run is set up beyond its data and hyperparameters (Vertex AI's
    ``TuningJob``: ``preTunedModel``, ``supervisedTuningSpec.exportLastCheckpointOnly``,
    ``serviceAccount``, ``encryptionSpec.kmsKeyName``). Empty: the service's defaults."""

    pre_tuned_model: str = ""  # a tuned Model to tune further (continuous tuning)
    pre_tuned_checkpoint: str = ""  # which of its checkpoints; "": its default
    export_last_checkpoint_only: bool = False
    service_account: str = ""  # runs the job; not part of what the job makes
    kms_key_name: str = ""  # CMEK for the job and the model it makes
    #: ``spec.method`` (`gitops_tune.manifest.methods`): "" is supervised; its settings as
    #: canonical JSON of their manifest (Google REST) names.
    method: str = ""
    method_settings: str = "{}"
    # Vertex AI's evaluation during tuning; not part of what the run makes (not in `fields`)
    evaluation: TuningEvaluation | None = None

    def fields(self) -> dict[str, object]:
        """What changes the model a run makes, by manifest names; unset ones left out (so a
        manifest without them keeps its fingerprint). ``serviceAccount`` is not among them."""
        out: dict[str, object] = {}
        if self.pre_tuned_model:
            out["preTunedModel"] = {"tunedModelName": self.pre_tuned_model}
            if self.pre_tuned_checkpoint:
                out["preTunedModel"] = {
                    "tunedModelName": self.pre_tuned_model,
                    "checkpointId": self.pre_tuned_checkpoint,
                }
        if self.export_last_checkpoint_only:
            out["exportLastCheckpointOnly"] = True
        if self.kms_key_name:
            out["encryptionSpec"] = {"kmsKeyName": self.kms_key_name}
        if self.method and self.method != "supervised":
            out["method"] = {self.method: json.loads(self.method_settings)}
        return out


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint of a tuned model (``TunedModelCheckpoint`` in tuning_job.proto)."""

    checkpoint_id: str
    epoch: int
    step: int = 0
    endpoint: str = ""  # the Endpoint it was deployed to ("": none listed)


@dataclass(frozen=True)
class Retirement:
    """What retiring (deleting) a model does on its backend when that is more than one delete,
    said by the plan in advance: ``steps`` in order, what happens instead when the backend
    refuses the delete, and the earlier refusal on record that makes one expected ("": none)."""

    steps: tuple[str, ...]
    if_refused: tuple[str, ...] = ()
    refused_before: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "steps": list(self.steps),
            "if_refused": list(self.if_refused),
            "refused_before": self.refused_before or None,
        }


@dataclass(frozen=True)
class Migration:
    """Facts an earlier version kept outside the resources (``source``), which apply writes
    onto the resources of ``models`` (their IDs); after that ``source`` is no longer read."""

    source: str
    models: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "models": list(self.models)}


@dataclass(frozen=True)
class RemoteModel:
    """A tuned model as the backend reports it."""

    id: str  # the backend's resource name, e.g. "tunedModels/next-number-1a2b3c4d5"
    display_name: str
    description: str  # the user's own description, with the ownership marker removed
    owner: Owner | None
    state: State
    base_model: str
    hyperparameters: Hyperparameters  # what the backend reports
    create_time: str = ""
    update_time: str = ""
    snapshots: tuple[Snapshot, ...] = ()
    total_steps: int | None = None
    endpoint: str = ""  # what an application calls; defaults to ``id``
    error: str = ""  # why it failed, when the backend says
    removable: bool = True  # False: nothing is left to delete (a failed job Vertex AI keeps)
    options: TrainingOptions = field(default_factory=TrainingOptions)
    checkpoints: tuple[Checkpoint, ...] = ()  # by epoch; empty where the API has none
    serving_checkpoint: str = ""  # the checkpoint ID the endpoint serves ("": unknown)
    scores: Scores | None = None  # the last evaluation, from the marker
    billable_tokens: int | None = None  # what the backend bills its training for, if it says
    data_stats: DataStats | None = None  # what the job reports of its data, if it does
    retirement: Retirement | None = None  # None: retiring it is one plain delete
    tuned_model: str = ""  # what a later run continues from (Vertex AI: the tuned Model)
    # FAILED because cancelled mid-training, and the model is kept and answers: Google's tuning
    # guide ("Canceled models") calls it usable, its inference performance unpredictable
    cancelled: bool = False
    tuning_evaluation: tuple[TuningEvaluationRun, ...] = ()  # the job's own evaluation runs

    @property
    def call_name(self) -> str:
        return self.endpoint or self.id


Contents = Sequence[Mapping[str, Any]]
"""Google's ``Content`` list as camelCase JSON: what ``countTokens`` is sent."""


@dataclass(frozen=True)
class DatasetRef:
    """Training or validation data as a create needs it: a remote object used in place
    (``uri``, e.g. ``gs://bucket/data.jsonl``) or examples streamed at send time. ``key``
    content-addresses the data (the fingerprint of its examples, or of the remote object), so a
    backend that stages data can upload it once."""

    key: str
    uri: str = ""
    examples: Callable[[], Iterator[Record]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class NewModel:
    """Everything a create sends. ``examples`` streams the training data at send time;
    ``training`` (when set) says more about it: a remote source or its content key."""

    model_id: str  # deterministic: derived from the name and the fingerprint
    display_name: str
    description: str
    owner: Owner
    base_model: str
    hyperparameters: Hyperparameters
    examples: Callable[[], Iterator[Record]] = field(compare=False)
    training: DatasetRef | None = None
    validation: DatasetRef | None = None
    options: TrainingOptions = field(default_factory=TrainingOptions)


@dataclass(frozen=True)
class BaseModel:
    name: str
    supports_tuning: bool


class ProviderError(Exception):
    """The backend refused a request. ``status`` is the HTTP code when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(ProviderError):
    """Worth retrying: 429, 5xx, timeouts, dropped connections. ``retry_after`` in seconds."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


#: HTTP statuses worth a retry, from every Google API (each SDK seam maps with these).
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ADC_HINT = "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"


def status_error(message: str, status: int, retry_after: float | None = None) -> ProviderError:
    """A refused request as our error: transient (``retry_after`` kept) or not."""
    if status in TRANSIENT_STATUSES:
        return TransientError(message, status, retry_after)
    return ProviderError(message, status)


def guarded(
    call: Callable[[], T], what: str, mapper: Callable[[Exception, str], ProviderError | None]
) -> T:
    """``call()`` with an SDK's failures raised as ``mapper`` maps them (no SDK traceback);
    a failure the mapper does not know (None) propagates as it is."""
    try:
        return call()
    except ProviderError:
        raise
    except Exception as e:
        mapped = mapper(e, what)
        if mapped is None:
            raise
        raise mapped from None


class Provider(Protocol):
    """One backend. Every method is safe to repeat: creates adopt, deletes of the gone succeed."""

    tuning_hint: str  # added to "base model does not support tuning" errors; may be empty

    def list_models(self, workspace: str) -> list[RemoteModel]:
        """The models whose ownership marker names ``workspace``; everything else is invisible."""

    def get(self, model_id: str) -> RemoteModel | None: ...

    def base_model(self, name: str) -> BaseModel | None: ...

    def create(self, new: NewModel) -> RemoteModel:
        """Start training. A model that already exists with this ID and owner is adopted."""

    def update(
        self,
        model_id: str,
        display_name: str,
        description: str,
        owner: Owner,
        serving: str = "",
    ) -> None:
        """Patch the model in place; ``serving`` ("last" or an epoch number): make that
        checkpoint the one its endpoint serves ("": leave it)."""

    def cancel(self, model_id: str) -> None: ...

    def delete(self, model_id: str) -> None:
        """Remove the model (stopping its training first); a model already gone is success."""

    def migration(self) -> Migration | None:
        """What the last ``list_models`` read from an earlier version's side store and used
        without writing it: apply's `migrate` writes it onto the resources."""

    def migrate(self) -> None:
        """Write the pending `migration` onto the resources (apply only; plan writes nothing)."""

    def listing_state(self) -> Any:
        """What the last ``list_models`` learnt besides the models (the pending `migration`),
        as plain data: a list made in another process hands it over (`commands.early`)."""

    def adopt_listing_state(self, state: Any) -> None:
        """Take over ``listing_state()`` of the same list made by another provider."""

    def generate(self, model: RemoteModel, prompt: Prompt) -> tuple[str, int]:
        """Ask the tuned model (``generateContent`` on what an application calls): its answer
        and the tokens it used. A text goes as the request's one user turn; `Turns` as the
        request's ``contents``, ``systemInstruction`` and ``generationConfig``."""

    def record_scores(self, model_id: str, scores: Scores) -> None:
        """Keep an evaluation's outcome in the model's marker, leaving the rest as it is."""

    def count_tokens(self, base_model: str, contents: Contents, resolution: str | None) -> int:
        """The tokens of ``contents`` (Google's ``Content`` as camelCase JSON: text, ``fileData``
        and ``videoMetadata`` parts) by ``base_model``'s tokenizer (the backend's
        ``countTokens``), in one request: the caller batches. ``resolution``: the
        ``generationConfig.mediaResolution`` the media is read at (Vertex AI only), or None."""
