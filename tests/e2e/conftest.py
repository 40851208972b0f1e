"""End-to-end harness: the real CLI, the real google-genai client, the project's emulator."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start

API_KEY = "e2e-canary-key-7f3a9c"
BASE = "models/gemini-1.5-flash-001-tuning"


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start(EmulatorConfig(port=0, train_seconds=1.0)) as running:
        yield running


def examples(n: int = 20, tag: str = "") -> list[dict[str, str]]:
    return [{"text_input": f"{tag}{i}", "output": f"{tag}{i + 1}"} for i in range(n)]


@dataclass
class Repo:
    """A manifest repository in a temp folder, driven through the CLI."""

    root: Path
    url: str
    workspace: str = "e2e"

    def write(self, name: str, **spec: Any) -> Path:
        body: dict[str, Any] = {
            "baseModel": BASE,
            "dataset": {"examples": examples()},
            "hyperparameters": {"epochCount": 2, "batchSize": 4},
        }
        body.update(spec)
        doc = {
            "apiVersion": "gitops-tune/v1",
            "kind": "TunedModel",
            "metadata": {"name": name},
            "spec": body,
        }
        path = self.root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    def remove(self, name: str) -> None:
        (self.root / f"{name}.yaml").unlink()

    def cli(self, *args: str, workspace: str | None = None, key: str = API_KEY) -> Result:
        env = {
            "GOOGLE_GEMINI_BASE_URL": self.url,
            "GEMINI_API_KEY": key,
            "GOOGLE_API_KEY": None,
            "GITOPS_TUNE_WORKSPACE": workspace or self.workspace,
            "GITOPS_TUNE_BACKEND": "gemini",
            "GITOPS_TUNE_RETRY_BASE_SECONDS": "0.01",
            "GITOPS_TUNE_POLL_SECONDS": "0.2",
            "NO_COLOR": "1",
        }
        command, *rest = args
        extra = (
            [str(self.root)] if command in {"plan", "apply", "destroy", "status", "output"} else []
        )
        return CliRunner().invoke(main, [command, *rest, *extra], env=env)

    def apply(self, *args: str, **kw: Any) -> Result:
        return self.cli("apply", "--auto-approve", "--timeout", "60s", *args, **kw)

    def plan_json(self, *args: str, **kw: Any) -> dict[str, Any]:
        result = self.cli("plan", "--format", "json", *args, **kw)
        assert result.exit_code == 0, result.output
        doc: dict[str, Any] = json.loads(result.stdout)
        return doc

    def actions(self, **kw: Any) -> list[tuple[str, str]]:
        return [(c["name"], c["action"]) for c in self.plan_json(**kw)["changes"]]


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    return Repo(root, emulator.url)


def rest(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Raw REST against the emulator, to set up what the tool must not touch."""
    request = urllib.request.Request(
        f"{url}/v1beta/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"x-goog-api-key": "someone-else", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def all_models(url: str) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = rest(url, "GET", "tunedModels?pageSize=1000").get(
        "tunedModels", []
    )
    return models
