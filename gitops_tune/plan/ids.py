"""Deterministic names and digests: the tuned-model ID, and what a saved plan compares."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from gitops_tune.desired import DesiredModel
from gitops_tune.providers.base import RemoteModel


def tuned_model_id(workspace: str, name: str, fingerprint: str) -> str:
    """The deterministic tuned-model ID: ``{name}-{9 hex}``, at most 40 characters.

    The suffix hashes the workspace with the fingerprint, so a repeated create answers 409 and
    is adopted, while two workspaces declaring the same model never collide.
    """
    suffix = hashlib.sha256(f"{workspace}\0{fingerprint}".encode()).hexdigest()[:9]
    return f"{name}-{suffix}"


def observed_digest(observed: Iterable[RemoteModel]) -> str:
    """A digest of everything the planner reads from the remote side."""
    rows = sorted(
        [
            m.id,
            m.state.value,
            m.display_name,
            m.description,
            m.base_model,
            json.dumps(m.hyperparameters.fields(), sort_keys=True),
            m.owner.name if m.owner else "",
            m.owner.fingerprint if m.owner else "",
            m.owner.prevent_destroy if m.owner else False,
            *([[m.scores.key, m.scores.score, m.scores.verdict]] if m.scores else []),
        ]
        for m in observed
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def desired_digest(desired: Iterable[DesiredModel]) -> str:
    rows = sorted(
        [d.name, d.fingerprint, d.display_name, d.description, d.prevent_destroy, *_gate(d)]
        for d in desired
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _gate(d: DesiredModel) -> list[object]:
    """What a plan reads of ``spec.evaluation`` (nothing when none is declared)."""
    e = d.evaluation
    return [] if e is None else [[e.key, e.min_score, e.no_regression, e.tolerance]]
