"""The tool's own working folder, shared by the local backend and the fingerprint cache."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """``.gitops-tune/`` under the current directory, unless ``GITOPS_TUNE_HOME`` says otherwise."""
    return Path(os.environ.get("GITOPS_TUNE_HOME", ".gitops-tune"))
