"""End-to-end harness: the real CLI, the real google-genai client, the project's emulator.

Every test runs on both backends from the same code: ``gemini`` (the Gemini API dialect, an
API key) and ``vertex`` (the Vertex AI dialect with google-genai in vertex mode and
google-cloud-storage on ``STORAGE_EMULATOR_HOST``, with Application Default Credentials from
an ``authorized_user`` file that carries a fake, never-expiring access token). What differs
per backend (base model names, hyperparameters, how raw REST sees models) lives in `Repo`.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.providers.sdk_genai import Genai
from tests.harness import SOMEONE_ELSE, all_models, examples, request_json, write_manifest

API_KEY = "e2e-canary-key-7f3a9c"
ACCESS_TOKEN = "e2e-canary-token-4b1d2e"
BASE = "models/gemini-1.5-flash-001-tuning"
VERTEX_BASE = "gemini-2.5-flash"
PROJECT, LOCATION, BUCKET = "e2e-project", "us-central1", "e2e-staging"
BACKENDS = ("gemini", "vertex")


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start(EmulatorConfig(port=0, train_seconds=1.0, operation_seconds=0.2)) as running:
        yield running


@dataclass
class Repo:
    """A manifest repository in a temp folder, driven through the CLI."""

    root: Path
    url: str
    workspace: str = "e2e"
    backend: str = "gemini"
    adc: Path | None = None  # the vertex backend's credentials file

    # -- what differs per backend -------------------------------------------------------------

    @property
    def vertex(self) -> bool:
        return self.backend == "vertex"

    @property
    def base(self) -> str:
        return VERTEX_BASE if self.vertex else BASE

    @property
    def untunable(self) -> str:
        return "gemini-2.5-flash-image" if self.vertex else "models/gemini-1.5-pro-001"

    @property
    def unknown_base(self) -> str:
        return "no-such-model" if self.vertex else "models/no-such-model"

    @property
    def secret(self) -> str:
        return ACCESS_TOKEN if self.vertex else API_KEY

    @property
    def call_prefix(self) -> str:
        """How `output` names what an application calls."""
        if self.vertex:
            return f"projects/{PROJECT}/locations/{LOCATION}/endpoints/"
        return "tunedModels/alpha-"

    def env(self, key: str) -> dict[str, str | None]:
        if not self.vertex:
            return {"GOOGLE_GEMINI_BASE_URL": self.url, "GEMINI_API_KEY": key}
        return {
            "GOOGLE_VERTEX_BASE_URL": self.url,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "GOOGLE_CLOUD_LOCATION": LOCATION,
            "GOOGLE_APPLICATION_CREDENTIALS": str(self.adc),
            "STORAGE_EMULATOR_HOST": self.url,
            "GEMINI_API_KEY": None,
        }

    def hyperparameters(self, given: dict[str, Any]) -> dict[str, Any]:
        """Vertex AI has no batchSize: the same test intent, in its terms."""
        return {k: v for k, v in given.items() if not (self.vertex and k == "batchSize")}

    # -- raw REST views of the emulator -------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        """Every tuned model the emulator holds, as raw REST sees them (normalized: name,
        state ACTIVE/CREATING/FAILED, displayName, description, owner)."""
        if not self.vertex:
            return [{**m, "owner": _gemini_owner(m)} for m in all_models(self.url)]
        jobs = vertex_rest(self.url, "GET", "tuningJobs?pageSize=1000").get("tuningJobs", [])
        models = {
            m["name"]: m
            for m in vertex_rest(self.url, "GET", "models?pageSize=1000").get("models", [])
        }
        out = []
        for job in jobs:
            model = models.get(job.get("tunedModel", {}).get("model", "").split("@")[0])
            state = _VERTEX_STATES.get(job["state"])
            if state is None or (model is None and state != "CREATING"):
                continue  # cancelling, or ended with no model: nothing left of it
            values = {**job.get("labels", {}), **(model or {}).get("labels", {})}
            if values.get("gitops_tune_retired") == "true":
                continue  # a model Vertex AI refused to delete, retired
            owner = None
            if "gitops_tune_workspace" in values:
                owner = (values["gitops_tune_workspace"], values["gitops_tune_name"])
            out.append(
                {
                    "name": job["name"],
                    "state": state,
                    "displayName": (model or {}).get("displayName", job["tunedModelDisplayName"]),
                    "description": (model or {}).get("description", job.get("description", "")),
                    "owner": owner,
                }
            )
        return sorted(out, key=lambda m: m["name"])

    def ids(self) -> list[str]:
        return sorted(m["name"] for m in self.models())

    def model_names(self) -> list[str]:
        """The manifest names the models are owned as."""
        return [m["owner"][1] for m in self.models() if m["owner"]]

    def user_description(self, model: dict[str, Any]) -> str:
        """The user's own description (on the Gemini API, before the marker paragraph)."""
        text = str(model.get("description", ""))
        if self.vertex:
            return text
        head, sep, _ = text.partition("\n\n[gitops-tune ")
        assert sep, text
        return head

    def create_unmanaged(self, model_id: str, display_name: str | None = None) -> str:
        """A model made by hand, with no ownership marker; its ID."""
        if not self.vertex:
            body: dict[str, Any] = {
                "baseModel": BASE,
                "tuningTask": {
                    "hyperparameters": {"epochCount": 2, "batchSize": 4},
                    "trainingData": {
                        "examples": {"examples": [{"textInput": "a", "output": "b"}]},
                    },
                },
            }
            if display_name:
                body["displayName"] = display_name
            rest(self.url, "POST", f"tunedModels?tunedModelId={model_id}", body)
            return f"tunedModels/{model_id}"
        line = json.dumps(
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "a"}]},
                    {"role": "model", "parts": [{"text": "b"}]},
                ]
            }
        )
        request = urllib.request.Request(
            f"{self.url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={model_id}.jsonl",
            data=line.encode(),
            method="POST",
        )
        urllib.request.urlopen(request).read()
        job = vertex_rest(
            self.url,
            "POST",
            "tuningJobs",
            {
                "baseModel": VERTEX_BASE,
                "tunedModelDisplayName": display_name or model_id,
                "supervisedTuningSpec": {
                    "trainingDatasetUri": f"gs://{BUCKET}/{model_id}.jsonl",
                    "hyperParameters": {"epochCount": "2"},
                },
            },
        )
        return str(job["name"])

    # -- the CLI ------------------------------------------------------------------------------

    def write(self, name: str, **spec: Any) -> Path:
        body: dict[str, Any] = {
            "baseModel": self.base,
            "dataset": {"examples": examples()},
            "hyperparameters": self.hyperparameters({"epochCount": 2, "batchSize": 4}),
        }
        if "hyperparameters" in spec:
            spec["hyperparameters"] = self.hyperparameters(spec["hyperparameters"])
        body.update(spec)
        return write_manifest(self.root, name, body)

    def remove(self, name: str) -> None:
        (self.root / f"{name}.yaml").unlink()

    def cli(
        self, *args: str, workspace: str | None = None, key: str = API_KEY, input: str | None = None
    ) -> Result:
        env = {
            **self.env(key),
            "GOOGLE_API_KEY": None,
            "GITOPS_TUNE_WORKSPACE": workspace or self.workspace,
            "GITOPS_TUNE_BACKEND": self.backend,
            "GITOPS_TUNE_RETRY_BASE_SECONDS": "0.01",
            "GITOPS_TUNE_POLL_SECONDS": "0.2",
            "NO_COLOR": "1",
        }
        command, *rest = args
        extra = (
            [str(self.root)] if command in {"plan", "apply", "destroy", "status", "output"} else []
        )
        return CliRunner().invoke(main, [command, *rest, *extra], env=env, input=input)

    def apply(self, *args: str, **kw: Any) -> Result:
        return self.cli("apply", "--auto-approve", "--timeout", "60s", *args, **kw)

    def plan_json(self, *args: str, **kw: Any) -> dict[str, Any]:
        result = self.cli("plan", "--format", "json", *args, **kw)
        assert result.exit_code == 0, result.output
        doc: dict[str, Any] = json.loads(result.stdout)
        return doc

    def actions(self, **kw: Any) -> list[tuple[str, str]]:
        return [(c["name"], c["action"]) for c in self.plan_json(**kw)["changes"]]


@pytest.fixture(params=BACKENDS)
def repo(request: pytest.FixtureRequest, tmp_path: Path, emulator: RunningEmulator) -> Repo:
    return repo_for(str(request.param), tmp_path, emulator)


def repo_for(backend: str, tmp_path: Path, emulator: RunningEmulator) -> Repo:
    """A repository driving ``backend`` against ``emulator`` (vertex: with its bucket)."""
    root = tmp_path / "repo"
    root.mkdir()
    if backend == "gemini":
        return Repo(root, emulator.url)
    request_json(emulator.url, "POST", "storage/v1/b?project=e2e", {"name": BUCKET})
    adc = tmp_path / "adc.json"
    adc.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "e2e",
                "client_secret": "e2e",
                "refresh_token": "e2e",
                "token": ACCESS_TOKEN,
                "expiry": "2999-01-01T00:00:00Z",
            }
        )
    )
    workspace = {
        "apiVersion": "gitops-tune/v1",
        "kind": "Workspace",
        "metadata": {"name": "e2e"},
        "spec": {"backend": "vertex", "vertex": {"stagingBucket": f"gs://{BUCKET}"}},
    }
    (root / "workspace.yaml").write_text(yaml.safe_dump(workspace, sort_keys=False))
    return Repo(root, emulator.url, backend="vertex", adc=adc)


def rest(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Raw Gemini API REST against the emulator, to set up what the tool must not touch."""
    return request_json(url, method, f"v1beta/{path}", body, SOMEONE_ELSE)


_VERTEX_STATES = {
    "JOB_STATE_QUEUED": "CREATING",
    "JOB_STATE_PENDING": "CREATING",
    "JOB_STATE_RUNNING": "CREATING",
    "JOB_STATE_SUCCEEDED": "ACTIVE",
    "JOB_STATE_FAILED": "FAILED",
    "JOB_STATE_CANCELLED": "FAILED",
    "JOB_STATE_EXPIRED": "FAILED",
}


def vertex_rest(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Raw Vertex AI REST against the emulator, as someone else."""
    path = f"v1beta1/projects/{PROJECT}/locations/{LOCATION}/{path}"
    return request_json(url, method, path, body, {"Authorization": "Bearer someone-else"})


def _gemini_owner(model: dict[str, Any]) -> tuple[str, str] | None:
    m = re.search(r"\[gitops-tune workspace=(\S+) name=(\S+) ", model.get("description", ""))
    return (m[1], m[2]) if m else None


@contextmanager
def counted_prompts() -> Iterator[list[str]]:
    """Every prompt a tuned model is asked (``generateContent``) while inside."""
    asked: list[str] = []
    original = Genai.generate

    def counting(self: Genai, model: str, prompt: str) -> tuple[str, int]:
        asked.append(prompt)
        return original(self, model, prompt)

    with patch.object(Genai, "generate", counting):
        yield asked
