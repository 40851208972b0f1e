"""The vertex backend's list starts as soon as the command line is parsed when the environment
names the project, location and staging bucket (`commands.early`), in a helper process; what
that list learnt besides the models (an earlier version's index, which apply moves) reaches the
command's own provider, and a Workspace document that names another bucket wins."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_tune.commands import early
from gitops_tune.emulator.server import EmulatorConfig, start
from tests.commands.test_early import helpers, stats
from tests.e2e.conftest import BUCKET, Repo, repo_for
from tests.e2e.test_vertex import legacy_index_for, model_of, trained


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[tuple[Repo, str]]:
    """A vertex repository with one trained model whose facts sit in an earlier version's
    index (so a list learns a pending migration besides the models)."""
    with start(EmulatorConfig(port=0, train_seconds=1.0, operation_seconds=0.3)) as running:
        repo = repo_for("vertex", tmp_path, running)
        job = trained(repo)
        legacy_index_for(repo, job)
        yield repo, job


def job_lists(url: str) -> int:
    return sum(n for k, n in stats(url).items() if k.startswith("GET ") and k.endswith("Jobs"))


def test_the_list_starts_early_and_its_migration_reaches_the_command(
    legacy: tuple[Repo, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, job = legacy
    with pytest.MonkeyPatch.context() as mp:
        started = helpers(mp)
        expected = repo.plan_json()  # the bucket from the Workspace document only
    assert early.MODULE not in started
    assert expected["migration"] is not None

    monkeypatch.setenv("GITOPS_TUNE_STAGING_BUCKET", f"gs://{BUCKET}")
    before = job_lists(repo.url)
    with pytest.MonkeyPatch.context() as mp:
        started = helpers(mp)
        found = repo.plan_json()
    assert early.MODULE in started
    assert found == expected
    assert job_lists(repo.url) - before == 1, stats(repo.url)  # the helper's, used

    repo.write("alpha", displayName="From the index", description="old words")
    with pytest.MonkeyPatch.context() as mp:
        started = helpers(mp)
        result = repo.apply()
    assert early.MODULE in started
    assert result.exit_code == 0, result.output
    assert "moved what" in result.stderr
    assert model_of(repo, job)["labels"]["gitops_tune_schema"] == "2"


def test_a_workspace_document_naming_another_bucket_wins(
    legacy: tuple[Repo, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = legacy
    expected = repo.plan_json()
    monkeypatch.setenv("GITOPS_TUNE_STAGING_BUCKET", "gs://not-the-documents-bucket")
    with pytest.MonkeyPatch.context() as mp:
        started = helpers(mp)
        found = repo.plan_json()
    assert early.MODULE in started  # started, then cancelled: the document says otherwise
    assert found == expected


def test_a_plan_that_changes_nothing_imports_neither_google_client(tmp_path: Path) -> None:
    """The list came from the helper process, so the command never makes a google-genai or a
    Cloud Storage client (the two imports cost about 1.2 s of a core)."""
    with start(EmulatorConfig(port=0, train_seconds=1.0, operation_seconds=0.3)) as running:
        repo = repo_for("vertex", tmp_path, running)
        trained(repo)
        probe = (
            "import sys\nfrom gitops_tune.cli import main\n"
            "try:\n    main(sys.argv[1:], standalone_mode=False)\nfinally:\n"
            "    print('imported:', sorted(m for m in ('google.genai', 'google.cloud.storage')"
            " if m in sys.modules))\n"
        )
        env = {
            **os.environ,
            **repo.env("unused"),
            "GITOPS_TUNE_WORKSPACE": repo.workspace,
            "GITOPS_TUNE_BACKEND": "vertex",
            "GITOPS_TUNE_STAGING_BUCKET": f"gs://{BUCKET}",
        }
        run = subprocess.run(
            [sys.executable, "-c", probe, "plan", str(repo.root)],
            env={k: v for k, v in env.items() if v is not None},
            capture_output=True,
            text=True,
            check=False,
        )
    assert "No changes" in run.stdout, run.stdout + run.stderr
    assert "imported: []" in run.stdout
