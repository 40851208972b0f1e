"""What each backend is: one record per backend, asked by every other room.

A backend is the service that holds the tuned models (``gemini``: the Gemini API; ``vertex``:
Vertex AI (Gemini Enterprise Agent Platform, as Google's documentation now also calls it);
``local``:
the project's emulator, speaking either API). What a manifest may say, which defaults apply,
how base models are named, what the service can do and which provider module serves it are
fields of the records below. No other module compares backend names: validation,
desired-state resolution, planning, status and rendering read these records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

BackendName = Literal["local", "gemini", "vertex"]
DialectName = Literal["gemini", "vertex"]  # the APIs there are; `local` emulates either
NAMES: tuple[str, ...] = get_args(BackendName)
DIALECTS: tuple[str, ...] = get_args(DialectName)
DEFAULT_BACKEND: BackendName = "gemini"
DEFAULT_DIALECT: DialectName = "gemini"

#: Google's defaults ("Fine-tuning with the Gemini API": epoch count 5, batch size 4,
#: learning rate 0.001; Vertex AI supervised tuning: learning rate multiplier 1.0).
DEFAULT_EPOCH_COUNT = 5
DEFAULT_BATCH_SIZE = 4
DEFAULT_LEARNING_RATE = 0.001
DEFAULT_LEARNING_RATE_MULTIPLIER = 1.0

_MANIFEST_NAMES = {
    "epoch_count": "epochCount",
    "batch_size": "batchSize",
    "learning_rate": "learningRate",
    "learning_rate_multiplier": "learningRateMultiplier",
    "adapter_size": "adapterSize",
}


@dataclass(frozen=True)
class Hyperparameters:
    """What a training run is configured with. A field the backend's API lacks is None."""

    epoch_count: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: str | None = None

    def fields(self) -> dict[str, object]:
        """The fields that are set, by their manifest (camelCase) names."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[_MANIFEST_NAMES[f.name]] = value
        return out

    @property
    def epochs(self) -> int:
        """The epoch count, or the default where none is known."""
        return self.epoch_count or DEFAULT_EPOCH_COUNT

    def total_steps(self, examples: int) -> int:
        """Training steps as the tuning service counts them: ``ceil(examples x epochs /
        batchSize)`` (Google's recorded tutorial run: 15 examples, 5 epochs, batch size 2 ->
        totalSteps 38)."""
        batch = max(self.batch_size or DEFAULT_BATCH_SIZE, 1)
        return max(1, -(-max(examples, 1) * self.epochs // batch))

    @classmethod
    def from_fields(cls, given: Mapping[str, object]) -> Hyperparameters:
        """From manifest (camelCase) names, as a backend reports them; unknown keys are
        ignored, numbers sent as strings (proto3 JSON int64) are read as numbers."""
        return cls(
            epoch_count=_int(given.get("epochCount")),
            batch_size=_int(given.get("batchSize")),
            learning_rate=_float(given.get("learningRate")),
            learning_rate_multiplier=_float(given.get("learningRateMultiplier")),
            adapter_size=str(given["adapterSize"]) if given.get("adapterSize") else None,
        )


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, str)):
        return int(float(value))
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, str)):
        return float(value)
    return None


_EITHER_OR = (
    ("learningRate", "learningRateMultiplier"),
    ("learningRateMultiplier", "learningRate"),
)


@dataclass(frozen=True)
class Api:
    """One tuning API, as a manifest meets it."""

    name: DialectName
    title: str  # as said in messages: "the Gemini API"
    hyperparameter_fields: tuple[str, ...]  # the manifest keys it accepts
    refused_hints: Mapping[str, str]  # a refused key -> what to use instead
    remote_datasets: bool  # gs:// sources and a validation dataset
    stages_local_data: bool  # local data is uploaded before a create, keyed by content
    defaults: Hyperparameters
    base_model_prefix: str  # base model names start with it ("models/"), or must not
    base_model_example: str
    loss_curve: bool  # reports per-step loss
    cancel: str  # what cancelling a training run does there
    in_place_update: bool  # display name and description change without retraining
    no_loss_curve: str = ""  # where the loss curve is, when the API does not report it
    display_name_limit: int = 40  # characters a tuned model's display name may have
    chat_format: bool = False  # tunes on the Gemini chat format (contents, systemInstruction)
    #: Its tuned models take text turns only: no system instruction, no media.
    tuned_text_only: bool = False
    tuning_evaluation: bool = False  # a tuning job evaluates itself (evaluationConfig)
    limits_table: str = ""  # the table of each base model's limits (gitops_tune.dataset)
    #: The TunedModel spec keys beyond the dataset and hyperparameters it takes (checkpoints,
    #: continuous tuning, the job's identity and encryption key); others are refused.
    training_fields: tuple[str, ...] = ()
    #: Why a refused training key is refused, where there is more to say than "no such setting".
    training_refusals: Mapping[str, str] = field(default_factory=dict)
    #: The tuning methods it runs (``spec.method``; `gitops_tune.manifest.methods.METHODS`).
    methods: tuple[str, ...] = ("supervised",)

    def hyperparameters(self, given: Mapping[str, object]) -> Hyperparameters:
        """The manifest's hyperparameters (camelCase; those the user set) over this API's
        defaults; keys it does not accept are left out (see `refused`). A learning rate given
        one way drops the default given the other way."""
        accepted = {k: v for k, v in given.items() if self.accepts(k)}
        merged = {**self.defaults.fields(), **accepted}
        for key, other in _EITHER_OR:
            if key in accepted and other not in accepted:
                merged.pop(other, None)
        return Hyperparameters.from_fields(merged)

    def accepts(self, key: str) -> bool:
        return key in self.hyperparameter_fields

    def refused(self, given: Mapping[str, object]) -> list[str]:
        """The keys of ``given`` this API has no such setting for (`refused_hints` says what
        to use instead, where there is something)."""
        return [key for key in given if not self.accepts(key)]

    def display_name_problem(self, name: str) -> str | None:
        """Why ``name`` is too long a display name for this API, or None."""
        if len(name) <= self.display_name_limit:
            return None
        return (
            f"{self.title} takes display names of at most {self.display_name_limit} "
            f"characters, got {len(name)}"
        )

    def base_model_problem(self, name: str) -> str | None:
        """Why ``name`` is not how this API names a base model, or None."""
        if self.base_model_prefix or not name.startswith("models/"):
            return None
        return (
            f"{self.title} names base models without 'models/' "
            f"(e.g. {self.base_model_example}), got {name!r}"
        )


GEMINI_API = Api(
    name="gemini",
    title="the Gemini API",
    hyperparameter_fields=("epochCount", "batchSize", "learningRate", "learningRateMultiplier"),
    refused_hints={},
    defaults=Hyperparameters(
        DEFAULT_EPOCH_COUNT, batch_size=DEFAULT_BATCH_SIZE, learning_rate=DEFAULT_LEARNING_RATE
    ),
    remote_datasets=False,
    stages_local_data=False,
    base_model_prefix="models/",
    base_model_example="models/gemini-1.5-flash-001-tuning",
    loss_curve=True,
    # The v1beta API binds no tunedModels operations :cancel (Google's REST bindings in
    # google-ai-generativelanguage); deleting the model is the only way to stop its training.
    cancel="delete the model that is still training (the Gemini API has no cancel)",
    in_place_update=True,
    # "Fine-tuning with the Gemini API", "Limitations of tuned models": "System instruction is
    # not supported with tuned models. Only text input is supported."
    tuned_text_only=True,
    # v1beta TunedModel.tuned_model_source ("TunedModel to use as the starting point for
    # training the new model", google-ai-generativelanguage) exists, but google-genai 3.6
    # sends base_model only, and the API takes no new tuning jobs.
    training_refusals={
        "from": "continuing from a tuned model is Vertex AI's continuous tuning; the Gemini "
        "API's TunedModel.tunedModelSource is not sent by google-genai, and the Gemini API "
        "accepts no new tuning jobs",
        "serving": "the Gemini API's tuned models have no checkpoints to choose between "
        "(serving.checkpoint, best included, is Vertex AI's)",
    },
)

VERTEX_API = Api(
    name="vertex",
    title="Vertex AI",
    hyperparameter_fields=("epochCount", "learningRateMultiplier", "adapterSize"),
    refused_hints={"learningRate": " (use learningRateMultiplier)"},
    defaults=Hyperparameters(
        DEFAULT_EPOCH_COUNT, learning_rate_multiplier=DEFAULT_LEARNING_RATE_MULTIPLIER
    ),
    remote_datasets=True,
    stages_local_data=True,
    base_model_prefix="",
    base_model_example="gemini-2.5-flash",
    loss_curve=False,
    cancel="cancel the tuning job, then delete its model and endpoint",
    in_place_update=True,
    no_loss_curve="Vertex AI does not report a loss curve for a tuning job through its API; "
    "its metrics are kept in the job's Vertex AI Experiment (TuningJob.experiment), shown in "
    "the Google Cloud console",
    # TuningJob.tuned_model_display_name: "can be up to 128 characters long" (tuning_job.proto)
    display_name_limit=128,
    chat_format=True,
    tuning_evaluation=True,
    limits_table="tuning_limits",
    # TuningJob.pre_tuned_model, .service_account, .encryption_spec,
    # SupervisedTuningSpec.export_last_checkpoint_only (tuning_job.proto); the default
    # checkpoint a tuned model serves is Model.default_checkpoint_id (model.proto).
    training_fields=(
        "from",
        "preTunedModel",
        "exportLastCheckpointOnly",
        "serviceAccount",
        "encryptionSpec",
        "serving",
    ),
    # TuningJob.preference_optimization_spec, .reinforcement_tuning_spec, .distillation_spec
    # (google-genai 3.6 TuningMethod; Vertex AI's v1beta1 TuningJob)
    methods=("supervised", "preference", "reinforcement", "distillation"),
)

APIS: Mapping[str, Api] = {"gemini": GEMINI_API, "vertex": VERTEX_API}
#: Where the vertex backend works when no Workspace document says (spec.vertex).
VERTEX_ENV = ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GITOPS_TUNE_STAGING_BUCKET")


@dataclass(frozen=True)
class Backend:
    """One backend: the API it speaks and the provider module that serves it."""

    name: BackendName
    api: Api
    provider: str  # module with ``open(settings) -> Provider``
    emulated: bool = False  # the project's own emulator, started in-process
    settled_by_flags: bool = False  # needs nothing from the Workspace document to open
    #: ...once the environment names these too (a Workspace document may still say otherwise:
    #: `commands.early` then lists again)
    settled_by_env: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """As shown to a user: ``vertex``, or ``local (vertex dialect)``."""
        return self.name if self.name == self.api.name else f"{self.name} ({self.api.name} dialect)"


def backend(name: str, dialect: str | None = None) -> Backend:
    """The record for backend ``name``; ``dialect`` picks the API an emulated backend speaks.
    Raises ValueError for a name or dialect there is no such record for."""
    if name == "local":
        api = APIS.get(dialect or DEFAULT_DIALECT)
        if api is None:
            raise ValueError(f"dialect {dialect!r}: must be one of {', '.join(DIALECTS)}")
        return Backend("local", api, "gitops_tune.providers.local", emulated=True)
    if name == "gemini":
        return Backend("gemini", GEMINI_API, "gitops_tune.providers.gemini", settled_by_flags=True)
    if name == "vertex":
        return Backend(
            "vertex",
            VERTEX_API,
            "gitops_tune.providers.vertex",
            settled_by_flags=True,
            settled_by_env=VERTEX_ENV,
        )
    raise ValueError(f"backend {name!r}: must be one of {', '.join(NAMES)}")
