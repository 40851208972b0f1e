"""Stages: a TunedModel that continues from another tuned model (Vertex AI's "Use continuous
tuning for Gemini models": the new job's ``preTunedModel`` names the tuned Model, and
optionally the checkpoint, it starts from).

``spec.from`` says where a stage starts, in one form for every tuning method:

- ``{model: NAME, checkpoint: last | EPOCH}``: a model declared in the same workspace. The
  planner orders the models as a graph (parents first), a retrained parent retrains its
  children, and apply creates a child only once its parent is ACTIVE (and passed its
  evaluation gate, where it has one), passing the parent's tuned Model and checkpoint.
- ``{tunedModel: projects/P/locations/L/models/M, checkpointId: ID}``: a tuned model outside
  the workspace, by resource name; never owned, never changed. ``spec.preTunedModel``
  (``{tunedModelName, checkpointId}``) is its earlier spelling and means the same (same
  fingerprint).

``checkpoint: best`` is refused: Vertex AI reports no loss per checkpoint, and continuing
from the epoch a parent's ``serving.checkpoint: best`` chose (once trained and scored) is not
offered yet; name that epoch (plan and status show it).
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from gitops_tune.errors import Diagnostic
from gitops_tune.manifest._base import CONFIG, NAME_PATTERN
from gitops_tune.manifest._yaml import Document

TUNED_MODEL_PATTERN = r"^projects/[^/]+/locations/[^/]+/models/[^/@]+(@[^/]+)?$"
BEST_REFUSED = (
    "checkpoint best is not offered: Vertex AI reports no loss per checkpoint, and a "
    "parent's serving.checkpoint best is chosen only once it is trained and scored; use last "
    "or an epoch number (plan and status show the epoch a parent's best chose)"
)
_CHECKPOINT_SCHEMA = {
    "description": "The parent's checkpoint to continue from: last (default) or an epoch "
    "number. Vertex AI keeps one checkpoint per epoch unless the parent sets "
    "exportLastCheckpointOnly.",
    "anyOf": [{"const": "last"}, {"type": "integer", "minimum": 1}],
    "default": "last",
}


class PreTunedModel(BaseModel):
    model_config = CONFIG

    tunedModelName: str = Field(
        pattern=TUNED_MODEL_PATTERN,
        description="The tuned Model to tune further: projects/P/locations/L/models/M.",
    )
    checkpointId: str | None = Field(
        default=None, min_length=1, description="Which of its checkpoints; default its default."
    )


class StageFrom(BaseModel):
    """``spec.from``: the tuned model this one continues from."""

    model_config = ConfigDict(
        **CONFIG,
        json_schema_extra={"oneOf": [{"required": ["model"]}, {"required": ["tunedModel"]}]},
    )

    model: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="A TunedModel declared in this workspace (its metadata.name): this model "
        "is trained after it, from its tuned model, and again whenever it is retrained.",
    )
    checkpoint: Annotated[
        Union[str, int],  # noqa: UP007 (runtime on 3.10)
        WithJsonSchema(_CHECKPOINT_SCHEMA),
    ] = "last"
    tunedModel: str | None = Field(
        default=None,
        pattern=TUNED_MODEL_PATTERN,
        description="A tuned Model outside this workspace, by resource name "
        "(projects/P/locations/L/models/M[@VERSION]); never owned or changed.",
    )
    checkpointId: str | None = Field(
        default=None,
        min_length=1,
        description="With tunedModel: which of its checkpoints, by Vertex AI's checkpoint ID; "
        "default its default checkpoint.",
    )

    @property
    def epoch(self) -> str:
        """``checkpoint`` as the plan says it: "last" or an epoch number."""
        return str(self.checkpoint)


def check_from(
    stage: StageFrom | None, pre: PreTunedModel | None, doc: Document
) -> list[Diagnostic]:
    """The rules of ``spec.from`` that span its fields, each at the key to change."""
    if stage is None:
        return []
    here = ("spec", "from")
    problems: list[Diagnostic] = []

    def at(key: str, message: str) -> None:
        path = (*here, key) if key else here
        problems.append(Diagnostic(message, doc.locate(path), ".".join(path)))

    if (stage.model is None) == (stage.tunedModel is None):
        at(
            "",
            "set exactly one of 'model' (a model in this workspace) or 'tunedModel' (one "
            "outside it, by resource name)",
        )
    if pre is not None:
        at(
            "",
            "spec.from and spec.preTunedModel are both set; preTunedModel is the earlier "
            "spelling of from.tunedModel: keep one",
        )
    if stage.tunedModel is not None and "checkpoint" in stage.model_fields_set:
        at("checkpoint", "applies to from.model; a tunedModel's checkpoint is from.checkpointId")
    if stage.model is not None and stage.checkpointId is not None:
        at(
            "checkpointId",
            "applies to from.tunedModel; from.model takes checkpoint: last or an epoch number",
        )
    problem = _checkpoint_problem(stage.checkpoint)
    if problem:
        at("checkpoint", problem)
    return problems


def _checkpoint_problem(value: str | int) -> str:
    if value == "best":
        return BEST_REFUSED
    if value == "last" or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return ""
    quoted = " (a string: write the number without quotes)" if str(value).isdigit() else ""
    return f"must be last or an epoch number (1 or more), got {value!r}{quoted}"
