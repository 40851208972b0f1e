"""Desired state: what the planner compares with what exists, one `DesiredModel` a manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitops_tune.backends import Hyperparameters
from gitops_tune.errors import Diagnostic, Location
from gitops_tune.providers.base import TrainingOptions

RemoteHashes = Callable[[str], "Mapping[str, str] | None"]
"""``gs://`` URI -> the content hashes the storage API reports (None: no such object)."""

RemoteObjects = Callable[[Iterable[str]], "Mapping[str, Mapping[str, str] | None]"]
"""``gs://`` URIs -> what the storage API reports of each (generation, crc32c, contentType,
size; None: no such object), looked up in batches: the media a chat dataset names."""

RemoteRead = Callable[[str], "bytes | None"]
"""``gs://`` URI -> the object's bytes (None: no such object): an evaluation set read in full."""

if TYPE_CHECKING:
    from gitops_tune.dataset import Record, Source
    from gitops_tune.evaluation import EvaluationSpec
    from gitops_tune.providers.base import DatasetRef
    from gitops_tune.settings import Settings, WorkspaceDoc


@dataclass(frozen=True)
class Stage:
    """``spec.from.model``: this model continues from ``parent``, a model of the workspace,
    at ``checkpoint`` ("last" or an epoch number). ``fingerprint`` (the model's own inputs)
    and the parent's fingerprint make the model's fingerprint, so a retrained parent means a
    new child (`gitops_tune.desired.stages`)."""

    parent: str
    checkpoint: str
    parent_fingerprint: str
    own_fingerprint: str
    location: Location  # where spec.from.model is written
    parent_gated: bool = False  # the parent has an evaluation gate to pass first

    def fingerprint_with(self, parent_fingerprint: str, checkpoint: str | None = None) -> str:
        """The model's fingerprint were its parent's ``parent_fingerprint`` (and were it to
        start from ``checkpoint`` instead of its own)."""
        line = json.dumps(
            {
                "data": self.own_fingerprint,
                "from": {
                    "checkpoint": self.checkpoint if checkpoint is None else checkpoint,
                    "fingerprint": parent_fingerprint,
                    "model": self.parent,
                },
            },
            sort_keys=True,
        )
        return hashlib.sha256((line + "\n").encode()).hexdigest()

    @property
    def fingerprint(self) -> str:
        return self.fingerprint_with(self.parent_fingerprint)

    def fields(self) -> dict[str, object]:
        """As the plan's attribute diff shows it."""
        return {"from": {"model": self.parent, "checkpoint": self.checkpoint}}


@dataclass(frozen=True)
class DesiredModel:
    name: str  # metadata.name
    display_name: str  # defaults to name
    description: str
    base_model: str
    preamble: str
    task: str
    hyperparameters: Hyperparameters  # the backend's defaults filled in
    fingerprint: str  # full sha256 hex
    example_count: int
    labels: Mapping[str, str]
    prevent_destroy: bool
    location: Location  # where the document's metadata.name is declared
    examples: Callable[[], Iterator[Record]] = field(compare=False, repr=False)
    retain_previous: int = 0
    warnings: tuple[Diagnostic, ...] = ()  # this model's warnings (also in DesiredState)
    dataset_source: str = ""  # the data file as shown to the user, or "<manifest> (inline)"
    training: DatasetRef | None = field(default=None, compare=False, repr=False)
    validation: DatasetRef | None = field(default=None, compare=False, repr=False)
    # For review (gitops_tune.review): the rows with their locations, the manifest file as
    # opened, and the rules `spec.review.ignore` silences (rule -> reason).
    source: Source | None = field(default=None, compare=False, repr=False)
    validation_source: Source | None = field(default=None, compare=False, repr=False)
    manifest_path: str = field(default="", compare=False)
    ignored: Mapping[str, str] = field(default_factory=dict, compare=False)
    options: TrainingOptions = field(default_factory=TrainingOptions)  # how the run is set up
    serving: str = ""  # spec.serving.checkpoint: "last", an epoch number, or "" (unset)
    evaluation: EvaluationSpec | None = None  # spec.evaluation: the gate a new model must pass
    stage: Stage | None = None  # spec.from.model: the workspace model this one continues from
    media_parts: int = field(default=0, compare=False)  # fileData parts: tokens not estimated

    @property
    def total_steps(self) -> int:
        return self.hyperparameters.total_steps(self.example_count)


@dataclass(frozen=True)
class DesiredState:
    models: tuple[DesiredModel, ...]  # sorted by name
    workspace: WorkspaceDoc | None
    settings: Settings
    warnings: tuple[Diagnostic, ...] = ()
