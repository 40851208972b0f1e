"""The Workspace document: the ownership scope of a tree of manifests and its backend."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gitops_tune.backends import BackendName, DialectName
from gitops_tune.manifest._base import CONFIG as _CONFIG
from gitops_tune.manifest._base import NAME_PATTERN, NAME_RULE


class WorkspaceMetadata(BaseModel):
    model_config = _CONFIG

    name: str = Field(
        pattern=NAME_PATTERN,
        description=f"The ownership scope of the models in this tree: {NAME_RULE}.",
    )


class VertexSettings(BaseModel):
    model_config = _CONFIG

    project: str | None = None
    location: str | None = None
    stagingBucket: str | None = None


class LocalSettings(BaseModel):
    model_config = _CONFIG

    dialect: DialectName | None = Field(
        default=None,
        description="Which API the local emulator speaks (default gemini; env "
        "GITOPS_TUNE_LOCAL_DIALECT wins).",
    )


class WorkspaceReview(BaseModel):
    model_config = _CONFIG

    prices: str | None = Field(
        default=None,
        min_length=1,
        description="Your price table for the plan's training cost, in the shape of "
        "gitops_tune/review/prices.yaml; a path relative to this file. `plan --prices` and "
        "GITOPS_TUNE_PRICES win.",
    )


class WorkspaceSpec(BaseModel):
    model_config = _CONFIG

    backend: BackendName | None = None
    vertex: VertexSettings | None = None
    local: LocalSettings | None = None
    review: WorkspaceReview | None = None


class WorkspaceDocument(BaseModel):
    """The ownership scope and backend; at most one in the tree."""

    model_config = ConfigDict(**_CONFIG, title="Workspace")

    apiVersion: Literal["gitops-tune/v1"]
    kind: Literal["Workspace"]
    metadata: WorkspaceMetadata
    spec: WorkspaceSpec = Field(default_factory=WorkspaceSpec)
