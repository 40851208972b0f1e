"""Every flag and environment variable, resolved once into one immutable object.

The CLI reads the environment once (`Invocation.from_environ`) and adds its flags; the rest of
the tool is handed what derives from that and never reads ``os.environ`` itself. The
workspace and backend come from the flags, then the environment, then the Workspace document
(`WorkspaceDoc`, found among the manifests), then defaults: `Invocation.settle` does that.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_tune import backends
from gitops_tune.backends import Backend
from gitops_tune.errors import Location, UserError

if TYPE_CHECKING:  # imported where used: `commands.early` reads the flags before anything else
    from gitops_tune.dataset.cache import ScanCache
    from gitops_tune.providers.retry import RetryPolicy

DEFAULT_WORKSPACE = "default"
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_LOCAL_TRAIN_SECONDS = 10.0  # how long the emulator takes to train a model
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$")


@dataclass(frozen=True)
class VertexTarget:
    """Where Vertex AI work happens: the Workspace's ``spec.vertex``, else the environment."""

    project: str | None = None
    location: str | None = None
    staging_bucket: str | None = None


@dataclass(frozen=True)
class WorkspaceDoc:
    """The tree's Workspace document, as far as settings go."""

    name: str
    backend: str | None
    location: Location
    vertex: VertexTarget = field(default_factory=VertexTarget)
    dialect: str | None = None  # spec.local.dialect
    prices: str | None = None  # spec.review.prices, relative to the working directory


@dataclass(frozen=True)
class Settings:
    """What a command works on and how; made by `Invocation.settle`."""

    workspace: str
    backend: Backend
    home: Path  # the tool's working folder (local backend, fingerprint cache)
    fingerprint_cache: bool
    retry: RetryPolicy
    poll_s: float
    vertex: VertexTarget
    local_train_seconds: float
    scan_workers: int = 1  # processes that parse data files the cache does not know
    prices: str | None = None  # the user's price table: GITOPS_TUNE_PRICES, else the Workspace's
    prices_from: Location | None = None  # the Workspace document, when the table comes from it

    @property
    def scan_cache(self) -> ScanCache | None:
        """Where clean dataset scans are remembered (None: turned off)."""
        from gitops_tune.dataset.cache import ScanCache

        return ScanCache(self.home / "fingerprints") if self.fingerprint_cache else None


@dataclass(frozen=True)
class Invocation:
    """The command line's flags and the environment, as read once."""

    workspace: str | None = None
    backend: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, workspace: str | None = None, backend: str | None = None) -> Invocation:
        """The one place that reads ``os.environ``."""
        return cls(workspace, backend, dict(os.environ))

    def or_else(self, workspace: str | None, backend: str | None) -> Invocation:
        """These flags where none were given (a saved plan's workspace and backend)."""
        return Invocation(self.workspace or workspace, self.backend or backend, self.env)

    @property
    def home(self) -> Path:
        """``.gitops-tune/`` under the current directory, unless ``GITOPS_TUNE_HOME``."""
        return Path(self.env.get("GITOPS_TUNE_HOME") or ".gitops-tune")

    @property
    def prices(self) -> str | None:
        """``GITOPS_TUNE_PRICES``: the user's price table for the plan's cost (else the
        package's, gitops_tune/review/prices.yaml)."""
        return self.env.get("GITOPS_TUNE_PRICES") or None

    @property
    def fingerprint_cache(self) -> bool:
        return self.env.get("GITOPS_TUNE_FINGERPRINT_CACHE", "1") != "0"

    @property
    def scan_workers(self) -> int:
        """``GITOPS_TUNE_SCAN_WORKERS``, else every core this process may run on."""
        raw = self.env.get("GITOPS_TUNE_SCAN_WORKERS")
        if raw:
            return max(1, int(self._number("GITOPS_TUNE_SCAN_WORKERS", 1)))
        affinity = getattr(os, "sched_getaffinity", None)
        return len(affinity(0)) if affinity is not None else os.cpu_count() or 1

    @property
    def retry(self) -> RetryPolicy:
        from gitops_tune.providers.retry import RetryPolicy

        d = RetryPolicy()
        return RetryPolicy(
            attempts=int(self._number("GITOPS_TUNE_RETRY_ATTEMPTS", d.attempts)),
            base_s=self._number("GITOPS_TUNE_RETRY_BASE_SECONDS", d.base_s),
            cap_s=self._number("GITOPS_TUNE_RETRY_CAP_SECONDS", d.cap_s),
        )

    @property
    def poll_s(self) -> float:
        return self._number("GITOPS_TUNE_POLL_SECONDS", DEFAULT_POLL_SECONDS)

    def backend_name(self, doc: WorkspaceDoc | None = None) -> str:
        """The flag, then ``GITOPS_TUNE_BACKEND``, then the Workspace document, then gemini."""
        name = (
            self.backend
            or self.env.get("GITOPS_TUNE_BACKEND")
            or (doc.backend if doc else None)
            or backends.DEFAULT_BACKEND
        )
        if name not in backends.NAMES:
            raise UserError(f"backend {name!r}: must be one of {', '.join(backends.NAMES)}")
        return name

    def workspace_name(self, doc: WorkspaceDoc | None = None) -> str:
        name = (
            self.workspace
            or self.env.get("GITOPS_TUNE_WORKSPACE")
            or (doc.name if doc else None)
            or DEFAULT_WORKSPACE
        )
        if not _NAME.match(name):
            raise UserError(
                f"workspace {name!r}: must match {_NAME.pattern} (lowercase letters, digits,"
                " dashes; at most 30 characters)"
            )
        return name

    def backend_record(self, doc: WorkspaceDoc | None = None) -> Backend:
        """The backend's record; an emulated backend speaks ``GITOPS_TUNE_LOCAL_DIALECT``,
        else the Workspace's ``spec.local.dialect``, else the Gemini API."""
        dialect = self.env.get("GITOPS_TUNE_LOCAL_DIALECT") or (doc.dialect if doc else None)
        try:
            return backends.backend(self.backend_name(doc), dialect)
        except ValueError:
            raise UserError(
                f"GITOPS_TUNE_LOCAL_DIALECT {dialect!r}: must be one of "
                f"{', '.join(backends.DIALECTS)}"
            ) from None

    def settle(self, doc: WorkspaceDoc | None = None) -> Settings:
        """Everything resolved: flags, then environment, then ``doc``, then defaults."""
        given = doc.vertex if doc else VertexTarget()
        project, location, bucket = (self.env.get(k) for k in backends.VERTEX_ENV)
        return Settings(
            workspace=self.workspace_name(doc),
            backend=self.backend_record(doc),
            home=self.home,
            fingerprint_cache=self.fingerprint_cache,
            retry=self.retry,
            poll_s=self.poll_s,
            vertex=VertexTarget(
                given.project or project,
                given.location or location,
                given.staging_bucket or bucket,
            ),
            local_train_seconds=self._number(
                "GITOPS_TUNE_LOCAL_TRAIN_SECONDS", DEFAULT_LOCAL_TRAIN_SECONDS
            ),
            scan_workers=self.scan_workers,
            prices=self.prices or (doc.prices if doc else None),
            prices_from=doc.location if doc and doc.prices and not self.prices else None,
        )

    def flags_settle(self) -> bool:
        """Flags and environment name the workspace and a backend that needs nothing from the
        Workspace document (they take precedence over it), or nothing the environment does not
        name too (vertex: project, location and staging bucket)."""
        workspace = self.workspace or self.env.get("GITOPS_TUNE_WORKSPACE")
        name = self.backend or self.env.get("GITOPS_TUNE_BACKEND")
        if not workspace or not name:
            return False
        try:
            record = self.backend_record()
        except UserError:
            return False  # said again, in its usual place, once the manifests are read
        return record.settled_by_flags and all(self.env.get(k) for k in record.settled_by_env)

    def settled_by_flags(self) -> Settings | None:
        """The settings when `flags_settle`, else None."""
        if not self.flags_settle():
            return None
        try:
            return self.settle()
        except UserError:
            return None  # said again, in its usual place, once the manifests are read

    def _number(self, key: str, default: float) -> float:
        raw = self.env.get(key)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            raise UserError(f"{key} {raw!r}: must be a number") from None
