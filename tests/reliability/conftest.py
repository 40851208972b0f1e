"""Shared fixtures for the reliability suite: crash, concurrency, faults, hostile input,
secrets and ownership.

Sizes: CI runs the small sizes. ``GITOPS_TUNE_RELIABILITY=large`` runs the large ones (see
docs/reliability.md); ``GITOPS_TUNE_RELIABILITY_SEED=N`` replays a seeded random run.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from gitops_tune.desired import load
from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.plan import tuned_model_id
from gitops_tune.providers.base import Owner
from gitops_tune.providers.gemini import format_marker, split_marker
from gitops_tune.settings import Invocation
from tests.harness import SOMEONE_ELSE, all_models, examples, request_json, write_manifest

LARGE = os.environ.get("GITOPS_TUNE_RELIABILITY", "").lower() == "large"
API_KEY = "canary-Zx81-reliability-key-5b0c4e"  # searched for in everything written
BASE = "models/gemini-1.5-flash-001-tuning"
WORKSPACE = "rel"
ENGINE_COMMANDS = {"plan", "apply", "destroy", "status", "output"}


def size(ci: int, large: int) -> int:
    """The CI size, or the large one under ``GITOPS_TUNE_RELIABILITY=large``."""
    return large if LARGE else ci


def seeded(label: str) -> random.Random:
    """A random generator whose seed is printed (``-s`` shows it) and can be replayed."""
    raw = os.environ.get("GITOPS_TUNE_RELIABILITY_SEED")
    seed = int(raw) if raw else random.randrange(2**32)
    print(f"{label}: seed={seed} (replay with GITOPS_TUNE_RELIABILITY_SEED={seed})")
    return random.Random(seed)


# -- the emulator, over raw REST -------------------------------------------------------------


@pytest.fixture
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningEmulator]:
    """An emulator on a SQLite file, serving from threads of the test process; subprocess
    CLIs and in-process CLIs talk to it over loopback HTTP. A test module may set
    ``TRAIN_SECONDS`` (default 1)."""
    seconds = float(getattr(request.module, "TRAIN_SECONDS", 1.0))
    config = EmulatorConfig(port=0, db_path=str(tmp_path / "emulator.db"), train_seconds=seconds)
    with start(config) as running:
        yield running


def rest(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return request_json(url, method, path, body, SOMEONE_ELSE)


def configure(url: str, **settings: Any) -> None:
    rest(url, "POST", "_emulator/config", settings)


def stats(url: str) -> dict[str, int]:
    counts: dict[str, int] = rest(url, "GET", "_emulator/stats")["requests"]
    return counts


def mutating_requests(counts: dict[str, int]) -> dict[str, int]:
    """API requests that could change remote state (POST/PATCH/DELETE outside /_emulator)."""
    return {
        k: v
        for k, v in counts.items()
        if k.split(" ")[0] in {"POST", "PATCH", "DELETE", "PUT"} and "/_emulator/" not in k
    }


def create_raw(
    url: str, model_id: str, description: str, display_name: str = "bystander", epochs: int = 1
) -> None:
    """A tuned model made by someone else, straight through REST."""
    body = {
        "displayName": display_name,
        "description": description,
        "baseModel": BASE,
        "tuningTask": {
            "hyperparameters": {"epochCount": epochs, "batchSize": 4},
            "trainingData": {
                "examples": {
                    "examples": [
                        {"textInput": e["text_input"], "output": e["output"]} for e in examples()
                    ]
                }
            },
        },
    }
    rest(url, "POST", f"v1beta/tunedModels?tunedModelId={model_id}", body)


FP = "ab" * 32  # a well-formed fingerprint that no manifest has


def bystanders(workspace: str, names: list[str]) -> dict[str, str]:
    """Model ID -> description for models gitops-tune must never modify in ``workspace``:
    unmanaged ones, other workspaces' (same names), and malformed or tampered markers."""
    name = names[0]
    good = format_marker(Owner(workspace, name, FP))
    out = {
        "unmanaged-plain": "a model somebody trained by hand",
        "unmanaged-empty": "",
        f"{name}-foreign": "team b\n\n" + format_marker(Owner(f"{workspace}-b", name, FP)),
        "prefix-ws": format_marker(Owner(f"{workspace}x", name, FP)),
        "marker-not-last": good + "\n\nedited afterwards",
        "marker-upper": good.replace(f"workspace={workspace}", f"workspace={workspace.upper()}"),
        "marker-short-fp": good.replace(FP, FP[:63]),
        "marker-no-bracket": good[:-1],
        "marker-extra-field": good[:-1] + " owner=me]",
        "marker-double-space": good.replace(" name=", "  name="),
        "marker-newline-ws": good.replace(f"workspace={workspace}", f"workspace=\n{workspace}"),
    }
    for other in names[1:]:
        out[f"{other}-other-ws"] = format_marker(Owner("someone-else", other, FP))
    return out


def seed_bystanders(url: str, workspace: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Create the bystanders, wait until they are ACTIVE, and return their snapshot."""
    wanted = bystanders(workspace, names)
    for model_id, description in wanted.items():
        create_raw(url, model_id, description)
    ids = {f"tunedModels/{m}" for m in wanted}
    deadline = time.monotonic() + 30
    while True:
        snap = {m["name"]: m for m in all_models(url) if m["name"] in ids}
        if all(m["state"] == "ACTIVE" for m in snap.values()) and len(snap) == len(ids):
            return snap
        assert time.monotonic() < deadline, "bystanders never became ACTIVE"
        time.sleep(0.1)


def foreign_now(url: str, snapshot: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in all_models(url) if m["name"] in snapshot}


# -- a manifest repository and the CLI -------------------------------------------------------


@dataclass
class Repo:
    root: Path
    url: str
    workspace: str = WORKSPACE
    key: str = API_KEY
    extra_env: dict[str, str] = field(default_factory=dict)

    def write(self, name: str, **spec: Any) -> Path:
        body: dict[str, Any] = {
            "baseModel": BASE,
            "dataset": {"examples": examples(tag=spec.pop("tag", ""))},
            "hyperparameters": {"epochCount": 2, "batchSize": 4},
        }
        body.update(spec)
        return write_manifest(self.root, name, body)

    def remove(self, name: str) -> None:
        (self.root / f"{name}.yaml").unlink()

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.yaml"))

    @property
    def home(self) -> Path:
        """The tool's working folder (fingerprint cache, local backend): inside the test."""
        return self.root.parent / "home"

    def env(self) -> dict[str, str]:
        return {
            "GITOPS_TUNE_HOME": str(self.home),
            "GOOGLE_GEMINI_BASE_URL": self.url,
            "GEMINI_API_KEY": self.key,
            "GITOPS_TUNE_WORKSPACE": self.workspace,
            "GITOPS_TUNE_BACKEND": "gemini",
            "GITOPS_TUNE_RETRY_BASE_SECONDS": "0.02",
            "GITOPS_TUNE_RETRY_CAP_SECONDS": "1",
            "GITOPS_TUNE_POLL_SECONDS": "0.1",
            "NO_COLOR": "1",
            **self.extra_env,
        }

    def _args(self, args: tuple[str, ...]) -> list[str]:
        command, *rest_ = args
        extra = [str(self.root)] if command in ENGINE_COMMANDS else []
        return [command, *rest_, *extra]

    def cli(self, *args: str) -> Result:
        """In process (CliRunner): fast, for everything that needs no real process."""
        env: dict[str, str | None] = {"GOOGLE_API_KEY": None, **self.env()}
        return CliRunner().invoke(main, self._args(args), env=env)

    def subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY",)}
        env.update(self.env())
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """The real console entry point in its own process (killable)."""
        return subprocess.Popen(
            [sys.executable, "-m", "gitops_tune", *self._args(args)],
            env=self.subprocess_env(),
            cwd=self.root.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gitops_tune", *self._args(args)],
            env=self.subprocess_env(),
            cwd=self.root.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def apply(self, *args: str) -> Result:
        return self.cli("apply", "--auto-approve", "--timeout", "90s", *args)


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    return Repo(root, emulator.url)


# -- the invariant ---------------------------------------------------------------------------


def _close(a: object, b: object) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-6)
    return a == b


def assert_converged(repo: Repo, untouched: dict[str, dict[str, Any]] | None = None) -> None:
    """Every manifest has exactly one model: ACTIVE, at its deterministic ID, with the declared
    spec; the workspace holds nothing else; nothing outside the workspace changed."""
    desired = {d.name: d for d in load([str(repo.root)], Invocation(backend="gemini")).models}
    models = all_models(repo.url)
    ours: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for m in models:
        description, owner = split_marker(m.get("description", ""))
        if owner is not None and owner.workspace == repo.workspace:
            assert owner.fingerprint, m
            ours.setdefault(owner.name, []).append((m, description))
    assert sorted(ours) == sorted(desired), (
        f"names in the workspace {sorted(ours)} != manifests {sorted(desired)}"
    )
    for name, d in desired.items():
        found = ours[name]
        assert len(found) == 1, f"{name}: {[m['name'] for m, _ in found]}"
        m, description = found[0]
        _, owner = split_marker(m.get("description", ""))
        assert owner is not None and owner.fingerprint == d.fingerprint, (name, owner)
        assert m["name"] == f"tunedModels/{tuned_model_id(repo.workspace, name, d.fingerprint)}"
        assert m["state"] == "ACTIVE", (name, m["state"])
        assert m.get("displayName", "") == d.display_name
        assert description == d.description
        assert m["baseModel"] == d.base_model
        remote_hp = m["tuningTask"]["hyperparameters"]
        for key, value in d.hyperparameters.fields().items():
            assert _close(remote_hp.get(key), value), (name, key, remote_hp, value)
    if untouched is not None:
        assert foreign_now(repo.url, untouched) == untouched, "a model outside was modified"


def wait_active(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while any(m["state"] == "CREATING" for m in all_models(url)):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def http_ok(url: str) -> bool:
    try:
        rest(url, "GET", "_emulator/health")
        return True
    except (urllib.error.URLError, OSError):
        return False
