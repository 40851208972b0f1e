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
DIALECTS = ("gemini", "vertex")  # the APIs a backend speaks; `local` emulates either
DEFAULT_WORKSPACE = "default"
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$")


@dataclass(frozen=True)
class Settings:
    workspace: str
    backend: str
    backend_settings: dict[str, Any] = field(default_factory=dict)
    dialect: str = "gemini"  # the API the backend speaks: gemini or vertex


def backend_of(backend_flag: str | None, doc: WorkspaceDoc | None) -> str:
    """The flag, then ``GITOPS_TUNE_BACKEND``, then the Workspace document, then gemini."""
    backend = (
        backend_flag
        or os.environ.get("GITOPS_TUNE_BACKEND")
        or (doc.backend if doc else None)
        or DEFAULT_BACKEND
    )
    if backend not in BACKENDS:
        raise UserError(f"backend {backend!r}: must be one of {', '.join(BACKENDS)}")
    return backend


def api_flavor(backend: str, doc: WorkspaceDoc | None) -> str:
    """The API ``backend`` speaks. ``local`` speaks ``GITOPS_TUNE_LOCAL_DIALECT``, else the
    Workspace's ``spec.local.dialect``, else gemini."""
    if backend != "local":
        return "vertex" if backend == "vertex" else "gemini"
    local = doc.settings.get("local") if doc else None
    dialect = os.environ.get("GITOPS_TUNE_LOCAL_DIALECT") or (
        local.get("dialect") if isinstance(local, dict) else None
    )
    dialect = str(dialect or "gemini")
    if dialect not in DIALECTS:
        raise UserError(
            f"GITOPS_TUNE_LOCAL_DIALECT {dialect!r}: must be one of {', '.join(DIALECTS)}"
        )
    return dialect


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
    backend = backend_of(backend_flag, doc)
    settings = dict(doc.settings) if doc else {}
    return Settings(workspace, backend, settings, api_flavor(backend, doc))
