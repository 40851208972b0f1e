"""`plan`/`apply` start the workspace's list before reading the manifests when flags or the
environment settle the workspace and the gemini backend (`commands.early.EarlyList`), as soon
as the command line is parsed."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start

MANIFEST = """\
apiVersion: gitops-tune/v1
kind: TunedModel
metadata: {{name: {name}}}
spec:
  baseModel: models/gemini-1.5-flash-001-tuning
  dataset:
    examples:
{examples}
"""


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start(EmulatorConfig(port=0, train_seconds=0.2)) as running:
        yield running


def write(root: Path, name: str) -> None:
    rows = "\n".join(f'      - {{text_input: "q{i}", output: "a{i}"}}' for i in range(20))
    (root / f"{name}.yaml").write_text(MANIFEST.format(name=name, examples=rows))


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/_emulator/stats") as r:
        counts: dict[str, int] = json.loads(r.read())["requests"]
    return {k: v for k, v in counts.items() if "/_emulator/" not in k}


def cli(url: str, *args: str, workspace: str | None = "early", key: str = "k") -> Result:
    env = {
        "GOOGLE_GEMINI_BASE_URL": url,
        "GEMINI_API_KEY": key,
        "GOOGLE_API_KEY": None,
        "GITOPS_TUNE_BACKEND": "gemini",
        "GITOPS_TUNE_WORKSPACE": workspace,
        "GITOPS_TUNE_RETRY_ATTEMPTS": "2",
        "GITOPS_TUNE_RETRY_BASE_SECONDS": "0.01",
        "NO_COLOR": "1",
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_plan_and_apply_list_once(emulator: RunningEmulator, tmp_path: Path) -> None:
    write(tmp_path, "alpha")
    started: list[str] = []
    real = threading.Thread.start

    def recording(self: threading.Thread) -> None:
        started.append(self.name)
        real(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(threading.Thread, "start", recording)
        applied = cli(emulator.url, "apply", "--auto-approve", str(tmp_path))
    assert applied.exit_code == 0, applied.output
    assert "gitops-tune-list" in started
    before = stats(emulator.url)
    planned = cli(emulator.url, "plan", str(tmp_path))
    assert planned.exit_code == 0, planned.output
    after = stats(emulator.url)
    listed = after["GET /v1beta/tunedModels"] - before["GET /v1beta/tunedModels"]
    assert listed == 1
    assert sum(after.values()) - sum(before.values()) == 1  # no per-model reads


def test_manifest_errors_come_first(emulator: RunningEmulator, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: gitops-tune/v1\nkind: Nope\n")
    result = cli(emulator.url, "plan", str(tmp_path), key="")
    assert result.exit_code == 1
    assert "unknown kind" in result.output
    assert "API key" not in result.output


def test_list_errors_surface_in_place(tmp_path: Path) -> None:
    write(tmp_path, "alpha")
    result = cli("http://127.0.0.1:9", "plan", str(tmp_path))  # nothing listens there
    assert result.exit_code == 1
    assert "list models" in result.output
    assert "Traceback" not in result.output


def test_without_settled_workspace_no_early_list(emulator: RunningEmulator, tmp_path: Path) -> None:
    write(tmp_path, "alpha")
    (tmp_path / "ws.yaml").write_text(
        "apiVersion: gitops-tune/v1\nkind: Workspace\nmetadata: {name: fromdoc}\nspec: {}\n"
    )
    started: list[str] = []
    real = threading.Thread.start

    def recording(self: threading.Thread) -> None:
        started.append(self.name)
        real(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(threading.Thread, "start", recording)
        result = cli(emulator.url, "plan", str(tmp_path), workspace=None)
    assert result.exit_code == 0, result.output
    assert "gitops-tune-list" not in started
    assert "alpha" in result.output
