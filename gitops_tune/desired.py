"""Desired state: the manifests and their datasets, resolved into what the planner compares."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from gitops_tune.dataset import Example
from gitops_tune.errors import Diagnostic, Location


@dataclass(frozen=True)
class DesiredModel:
    name: str  # metadata.name
    display_name: str  # defaults to name
    description: str
    base_model: str
    preamble: str
    task: str
    hyperparameters: Mapping[str, object]  # camelCase, seed defaults filled in
    fingerprint: str  # full sha256 hex
    example_count: int
    labels: Mapping[str, str]
    prevent_destroy: bool
    location: Location  # where the document's metadata.name is declared
    examples: Callable[[], Iterator[Example]] = field(compare=False, repr=False)
    retain_previous: int = 0


@dataclass(frozen=True)
class WorkspaceDoc:
    name: str
    backend: str | None
    location: Location
    settings: Mapping[str, object] = field(default_factory=dict)  # backend-specific, e.g. vertex


@dataclass(frozen=True)
class DesiredState:
    models: tuple[DesiredModel, ...]  # sorted by name
    workspace: WorkspaceDoc | None
    warnings: tuple[Diagnostic, ...] = ()
