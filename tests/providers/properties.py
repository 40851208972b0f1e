"""What the providers' hypothesis properties share: generated text, the settings that keep
them to a CI budget, and the way from a manifest folder to one desired model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from gitops_tune.desired.load import load
from gitops_tune.desired.state import DesiredModel
from gitops_tune.settings import Invocation

T = TypeVar("T", bound=Callable[..., Any])

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60
).filter(lambda s: s.strip() == s and s.strip())


def budget(examples: int) -> Callable[[T], T]:
    """``@settings`` for a property that starts an emulator per example."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def load_one(root: Path, backend: str) -> DesiredModel:
    """The one model the manifests under ``root`` declare, as ``plan`` would load it."""
    env = {"GITOPS_TUNE_HOME": str(root / ".home"), "GITOPS_TUNE_FINGERPRINT_CACHE": "0"}
    (desired,) = load([str(root)], Invocation("prop", backend, env)).models
    return desired
