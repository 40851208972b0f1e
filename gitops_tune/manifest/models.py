"""The manifest format v1 as pydantic models: the source of `schemas/tuning.schema.json`.

Field names are the YAML's camelCase names. Every model forbids unknown fields and is strict
(``"5"`` is not an integer). Rules that span fields (exactly one dataset source, at most one
learning rate) are checked by `gitops_tune.manifest.check` so that their messages point at
the right key; they also appear in the JSON Schema for editors.

Inline examples are validated by `gitops_tune.dataset` with plain Python (fast for large
datasets, and with the same messages as data files); here they are only "a list".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from gitops_tune import backends
from gitops_tune.manifest._base import CONFIG as _CONFIG
from gitops_tune.manifest._base import NAME_PATTERN, NAME_RULE
from gitops_tune.manifest.methods import Method
from gitops_tune.manifest.serving import checkpoint_word
from gitops_tune.manifest.stages import PreTunedModel, StageFrom
from gitops_tune.manifest.workspace import WorkspaceDocument

API_VERSION = "gitops-tune/v1"
KINDS = ("TunedModel", "Workspace")
TASKS = ("classification", "summarization", "document-search", "other")
AdapterSize = Literal[
    "ADAPTER_SIZE_ONE",
    "ADAPTER_SIZE_TWO",
    "ADAPTER_SIZE_FOUR",
    "ADAPTER_SIZE_EIGHT",
    "ADAPTER_SIZE_SIXTEEN",
    "ADAPTER_SIZE_THIRTY_TWO",
]
#: The data-quality rules of `gitops_tune.review.rules` that ``spec.review.ignore`` may
#: silence (docs/data-quality.md says what each one finds and why it matters).
ReviewRule = Literal[
    "duplicate-example",
    "conflicting-labels",
    "validation-leakage",
    "preamble-in-input",
    "length-outlier",
    "label-imbalance",
    "mixed-input-format",
]
GCS_URI_PATTERN = r"^gs://[a-z0-9][a-z0-9._-]{1,220}/.+$"
DISPLAY_NAME_LIMIT = 128  # the longest any backend takes; each backend's own limit is checked


_INLINE_EXAMPLES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": (
        "Inline training examples (text_input, output), as in Google's "
        '"Fine-tuning with the Gemini API" guide.'
    ),
    "items": {
        "type": "object",
        "properties": {
            "text_input": {"type": "string", "minLength": 1},
            "output": {"type": "string", "minLength": 1},
        },
        "required": ["text_input", "output"],
        "additionalProperties": False,
    },
}


class Metadata(BaseModel):
    model_config = _CONFIG

    name: str = Field(
        pattern=NAME_PATTERN,
        description=f"Identity of the model in this repository: {NAME_RULE}.",
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Free-form string labels (string to string)."
    )


class Dataset(BaseModel):
    model_config = ConfigDict(
        **_CONFIG,
        json_schema_extra={
            "oneOf": [{"required": ["examples"]}, {"required": ["path"]}, {"required": ["uri"]}]
        },
    )

    examples: Annotated[list[Any] | None, WithJsonSchema(_INLINE_EXAMPLES_SCHEMA)] = None
    path: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "A .jsonl, .json (array) or .csv file, relative to this manifest's directory and "
            "inside the directory tree being loaded."
        ),
    )
    uri: str | None = Field(
        default=None,
        pattern=GCS_URI_PATTERN,
        description=(
            "vertex only: a Cloud Storage object gs://BUCKET/OBJECT in the Vertex supervised-"
            "tuning JSONL format, used in place; its fingerprint is the content hash the "
            "storage API reports."
        ),
    )
    inputField: str = Field(
        default="text_input",
        min_length=1,
        description="The field (JSON) or column (CSV) holding each input; files only.",
    )
    outputField: str = Field(
        default="output",
        min_length=1,
        description="The field (JSON) or column (CSV) holding each output; files only.",
    )


class Hyperparameters(BaseModel):
    model_config = ConfigDict(
        **_CONFIG,
        json_schema_extra={"not": {"required": ["learningRate", "learningRateMultiplier"]}},
    )

    epochCount: int = Field(
        default=backends.DEFAULT_EPOCH_COUNT, gt=0, description="Training passes over the dataset."
    )
    batchSize: int = Field(
        default=backends.DEFAULT_BATCH_SIZE,
        gt=0,
        description="Examples per training step. gemini and local only.",
    )
    learningRate: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Default 0.001 unless learningRateMultiplier is set; never both. gemini and local only."
        ),
    )
    learningRateMultiplier: float | None = Field(
        default=None,
        gt=0,
        description="Multiplies the base model's learning rate. Default 1.0 on vertex.",
    )
    adapterSize: AdapterSize | None = Field(
        default=None, description="vertex only: the LoRA adapter size."
    )


class Lifecycle(BaseModel):
    model_config = _CONFIG

    preventDestroy: bool = Field(
        default=False, description="Refuse plans that would delete or replace this model."
    )
    retainPrevious: int = Field(
        default=0,
        ge=0,
        description=(
            "Keep this many superseded models (the most recent) after a replacement, for "
            "rollback; a revert to one of them needs no training."
        ),
    )


class IgnoredRule(BaseModel):
    model_config = _CONFIG

    rule: ReviewRule = Field(description="The data-quality rule to silence for this model.")
    reason: str = Field(
        min_length=1, description="Why the rule does not apply here; shown in review."
    )


class Review(BaseModel):
    model_config = _CONFIG

    ignore: list[IgnoredRule] = Field(
        default_factory=list,
        description="Data-quality rules silenced for this model, each with its reason "
        "(see docs/data-quality.md).",
    )


class EncryptionSpec(BaseModel):
    model_config = _CONFIG

    kmsKeyName: str = Field(
        pattern=r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$",
        description="A Cloud KMS key: projects/P/locations/L/keyRings/R/cryptoKeys/K.",
    )


class Serving(BaseModel):
    model_config = _CONFIG

    checkpoint: Annotated[
        Literal["last", "best"] | Annotated[int, Field(gt=0)], BeforeValidator(checkpoint_word)
    ] = Field(
        description="The checkpoint the tuned model's endpoint serves: last, an epoch number, "
        "or best: the checkpoint that scores highest on spec.evaluation (needs it; apply "
        "--wait scores each checkpoint). A switch needs no training when that checkpoint "
        "exists."
    )


class Normalize(BaseModel):
    model_config = _CONFIG

    ignoreCase: bool = Field(default=True, description="Compare case-insensitively.")
    collapseWhitespace: bool = Field(
        default=True, description="Trim, and count runs of whitespace as one space."
    )
    stripPunctuation: bool = Field(default=False, description="Ignore punctuation (not for regex).")


#: Vertex AI's computation-based metrics a tuning job can evaluate (``Metric`` in
#: evaluation_service.proto: ``exactMatchSpec``, ``bleuSpec``, ``rougeSpec.rougeType``, whose
#: documented types are rouge1..rouge9, rougeL and rougeLsum).
TuningMetric = Literal[
    "exactMatch",
    "bleu",
    "rouge1",
    "rouge2",
    "rouge3",
    "rouge4",
    "rouge5",
    "rouge6",
    "rouge7",
    "rouge8",
    "rouge9",
    "rougeL",
    "rougeLsum",
]


class DuringTuning(BaseModel):
    model_config = _CONFIG

    metrics: list[TuningMetric] = Field(
        min_length=1,
        description="vertex only: Vertex AI's metrics (EvaluationConfig.metrics): exactMatch "
        "(no normalisation), bleu, rouge1..rouge9, rougeL, rougeLsum.",
    )
    outputUri: str = Field(
        pattern=r"^gs://[^/]+(/.*)?$",
        description="vertex only: the Cloud Storage folder Vertex AI writes the evaluation "
        "results to (EvaluationConfig.outputConfig.gcsDestination.outputUriPrefix).",
    )


class Evaluation(BaseModel):
    model_config = _CONFIG

    dataset: Dataset = Field(
        description="Held-out examples in the same source forms as spec.dataset; the preamble "
        "is prepended to each input exactly as in training."
    )
    metric: Literal["exactMatch", "contains", "regex", "labelAccuracy"] = Field(
        default="exactMatch",
        description="exactMatch: the answer equals the output; contains: the answer contains "
        "it; regex: the output is a regular expression the whole answer matches; "
        "labelAccuracy: classification accuracy, with precision and recall per label.",
    )
    normalize: Normalize = Field(default_factory=Normalize)
    minScore: float = Field(
        default=0.0, ge=0, le=1, description="The share of examples a new model must get right."
    )
    noRegression: bool = Field(
        default=False,
        description="The new model must also score at least the serving model on the same "
        "set, less tolerance.",
    )
    tolerance: float = Field(
        default=0.0, ge=0, le=1, description="How far below the serving model noRegression allows."
    )
    duringTuning: DuringTuning | None = Field(
        default=None,
        description="vertex only: also ask the tuning job to evaluate its checkpoints on "
        "spec.validation (Vertex AI's evaluationConfig); shown by status, not used by the gate.",
    )


class TunedModelSpec(BaseModel):
    model_config = _CONFIG

    baseModel: str = Field(min_length=1, description="e.g. models/gemini-1.5-flash-001-tuning")
    displayName: str | None = Field(
        default=None,
        min_length=1,
        max_length=DISPLAY_NAME_LIMIT,
        description="Default metadata.name. At most 40 characters on the Gemini API, 128 on "
        "Vertex AI.",
    )
    description: str = ""
    preamble: str = Field(
        default="",
        description=("Prepended exactly to every input; send the same preamble at inference."),
    )
    task: Literal["classification", "summarization", "document-search", "other"] | None = Field(
        default=None, description="Selects the recommended dataset size. Default other."
    )
    method: Method | None = Field(
        default=None, description="The tuning method (default supervised) and its settings."
    )
    dataset: Dataset
    validation: Dataset | None = Field(
        default=None,
        description="vertex only: validation examples, in the same source forms as dataset.",
    )
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    review: Review = Field(default_factory=Review)
    from_: StageFrom | None = Field(
        default=None,
        alias="from",
        description="vertex only: a stage, continuing from another tuned model (Vertex AI "
        '"Use continuous tuning for Gemini models"): a model of this workspace, or one '
        "outside it by resource name.",
    )
    preTunedModel: PreTunedModel | None = Field(
        default=None,
        description="vertex only: the earlier spelling of from.tunedModel (continuous tuning "
        "from a tuned model outside the workspace); same meaning, same fingerprint.",
    )
    exportLastCheckpointOnly: bool | None = Field(
        default=None,
        description="vertex only: keep the last checkpoint only (default false: one per epoch).",
    )
    serviceAccount: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="vertex only: the service account the tuning job runs as.",
    )
    encryptionSpec: EncryptionSpec | None = Field(
        default=None, description="vertex only: customer-managed encryption (CMEK)."
    )
    serving: Serving | None = Field(
        default=None, description="vertex only: which checkpoint serves (default: Vertex AI's)."
    )
    evaluation: Evaluation | None = Field(
        default=None,
        description="A gate: with apply --wait, a new model serves (and the old one retires) "
        "only if it scores enough on this held-out set.",
    )


class TunedModelDocument(BaseModel):
    """A fine-tuned model."""

    model_config = ConfigDict(**_CONFIG, title="TunedModel")

    apiVersion: Literal["gitops-tune/v1"]
    kind: Literal["TunedModel"]
    metadata: Metadata
    spec: TunedModelSpec


ManifestDocument = Annotated[
    Union[TunedModelDocument, WorkspaceDocument],  # noqa: UP007 (runtime on 3.10)
    Field(discriminator="kind"),
]

DOCUMENT_MODELS: dict[str, type[BaseModel]] = {
    "TunedModel": TunedModelDocument,
    "Workspace": WorkspaceDocument,
}
