"""Which workspace and backend a command works on: flags, then environment, then the
Workspace document, then defaults. Resolved in one place so every command agrees."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from gitops_tune.desired import WorkspaceDoc
from gitops_tune.errors import UserError

BACKENDS = ("gemini", "local", "vertex")
DEFAULT_BACKEND = "gemini"
DEFAULT_WORKSPACE = "default"
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$")


@dataclass(frozen=True)
class Settings:
    workspace: str
    backend: str
    backend_settings: dict[str, Any] = field(default_factory=dict)


def resolve(
    workspace_flag: str | None, backend_flag: str | None, doc: WorkspaceDoc | None
) -> Settings:
    workspace = (
        workspace_flag
        or os.environ.get("GITOPS_TUNE_WORKSPACE")
        or (doc.name if doc else None)
        or DEFAULT_WORKSPACE
    )
    if not _NAME.match(workspace):
        raise UserError(
            f"workspace {workspace!r}: must match {_NAME.pattern} (lowercase letters, digits,"
            " dashes; at most 30 characters)"
        )
    backend = (
        backend_flag
        or os.environ.get("GITOPS_TUNE_BACKEND")
        or (doc.backend if doc else None)
        or DEFAULT_BACKEND
    )
    if backend not in BACKENDS:
        raise UserError(f"backend {backend!r}: must be one of {', '.join(BACKENDS)}")
    return Settings(workspace, backend, dict(doc.settings) if doc else {})
