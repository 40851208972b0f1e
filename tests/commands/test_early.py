"""`plan`/`apply` start the workspace's list before reading the manifests when flags or the
environment settle the workspace and the gemini backend (`commands.early.EarlyList`), as soon
as the command line is parsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gitops_tune import workers
from gitops_tune.cli import main
from gitops_tune.commands import early
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


def environment(url: str, workspace: str | None = "early", key: str = "k") -> dict[str, str | None]:
    return {
        "GOOGLE_GEMINI_BASE_URL": url,
        "GEMINI_API_KEY": key,
        "GOOGLE_API_KEY": None,
        "GITOPS_TUNE_BACKEND": "gemini",
        "GITOPS_TUNE_WORKSPACE": workspace,
        "GITOPS_TUNE_RETRY_ATTEMPTS": "2",
        "GITOPS_TUNE_RETRY_BASE_SECONDS": "0.01",
        "NO_COLOR": "1",
    }


def cli(url: str, *args: str, workspace: str | None = "early", key: str = "k") -> Result:
    return CliRunner().invoke(main, list(args), env=environment(url, workspace, key))


def helpers(mp: pytest.MonkeyPatch, own_process: bool = True) -> list[str]:
    """The modules of the helper processes started while ``mp`` is in force; with
    ``own_process``, as in a command's own process (google-genai not imported yet)."""
    started: list[str] = []
    real = workers.start
    if own_process:
        mp.setattr(early, "_imported_here", lambda: False)

    def recording(module: str, code: str = workers.CODE) -> subprocess.Popen[bytes]:
        started.append(module)
        return real(module, code)

    mp.setattr(workers, "start", recording)
    return started


def test_plan_and_apply_list_once(emulator: RunningEmulator, tmp_path: Path) -> None:
    write(tmp_path, "alpha")
    with pytest.MonkeyPatch.context() as mp:
        started = helpers(mp)
        applied = cli(emulator.url, "apply", "--auto-approve", str(tmp_path))
    assert applied.exit_code == 0, applied.output
    assert early.MODULE in started
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
    with pytest.MonkeyPatch.context() as mp:
        started = helpers(mp)
        result = cli(emulator.url, "plan", str(tmp_path), workspace=None)
    assert result.exit_code == 0, result.output
    assert early.MODULE not in started
    assert "alpha" in result.output


def test_a_helper_that_fails_leaves_the_list_to_the_command(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    write(tmp_path, "alpha")
    cli(emulator.url, "apply", "--auto-approve", str(tmp_path))
    before = stats(emulator.url)
    with pytest.MonkeyPatch.context() as mp:
        started = helpers(mp)
        mp.setattr(early, "MODULE", "gitops_tune.errors")  # no main(): it dies unheard
        result = cli(emulator.url, "plan", "--detailed-exitcode", str(tmp_path))
    assert started == ["gitops_tune.errors"]
    assert result.exit_code == 0, result.output
    listed = stats(emulator.url)["GET /v1beta/tunedModels"] - before["GET /v1beta/tunedModels"]
    assert listed == 1  # made here, once


def test_an_api_error_from_the_helper_reads_as_the_commands_own(tmp_path: Path) -> None:
    write(tmp_path, "alpha")
    dead = "http://127.0.0.1:9"  # nothing listens there: the retries give up
    on_thread = cli(dead, "plan", str(tmp_path))
    with pytest.MonkeyPatch.context() as mp:
        helpers(mp)
        result = cli(dead, "plan", str(tmp_path))
        mp.setattr(early, "MODULE", "gitops_tune.errors")  # the list is made here instead
        here = cli(dead, "plan", str(tmp_path))
    assert result.exit_code == here.exit_code == on_thread.exit_code == 1
    assert "list models: gave up after 2 attempts" in result.output
    assert result.output == here.output == on_thread.output


def test_a_plan_that_changes_nothing_never_imports_google_genai(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    write(tmp_path, "alpha")
    assert cli(emulator.url, "apply", "--auto-approve", str(tmp_path)).exit_code == 0
    probe = (
        "import sys\nfrom gitops_tune.cli import main\n"
        "try:\n    main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n    print('imported:', 'google.genai' in sys.modules)\n"
    )
    env = {k: v for k, v in {**os.environ, **environment(emulator.url)}.items() if v is not None}
    run = subprocess.run(
        [sys.executable, "-c", probe, "plan", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No changes" in run.stdout, run.stdout + run.stderr
    assert "imported: False" in run.stdout


def test_where_google_genai_is_imported_the_list_runs_on_a_thread(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    import google.genai  # noqa: F401  (imported here, as in a long-lived process)

    write(tmp_path, "alpha")
    names: list[str] = []
    real = threading.Thread.start

    def recording(self: threading.Thread) -> None:
        names.append(self.name)
        real(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(threading.Thread, "start", recording)
        started = helpers(mp, own_process=False)
        result = cli(emulator.url, "plan", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "gitops-tune-list" in names
    assert started == []


def test_bad_manifests_stop_the_helper(emulator: RunningEmulator, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: gitops-tune/v1\nkind: Nope\n")
    procs: list[subprocess.Popen[bytes]] = []
    real = workers.start

    def keeping(module: str, code: str = workers.CODE) -> subprocess.Popen[bytes]:
        procs.append(real(module, code))
        return procs[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(early, "_imported_here", lambda: False)
        mp.setattr(workers, "start", keeping)
        result = cli(emulator.url, "plan", str(tmp_path))
    assert result.exit_code == 1
    assert "unknown kind" in result.output
    assert len(procs) == 1
    assert procs[0].poll() is not None  # stopped and reaped, not left to finish its list
