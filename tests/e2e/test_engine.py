"""Every planner action end to end: CLI -> provider -> google-genai -> emulator."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest.mock import patch

import jsonschema
import pytest

from gitops_tune.plan.schema import plan_schema
from tests.e2e.conftest import Repo, rest
from tests.harness import examples, request_json


def wait_until_trained(repo: Repo) -> None:
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output


def test_create_wait_then_idempotent(repo: Repo) -> None:
    repo.write("alpha")
    result = repo.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "+ alpha" in result.stdout and "Plan: 1 to create" in result.stdout

    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert "alpha: create" in result.stdout and "ACTIVE" in result.stdout
    (model,) = repo.models()
    assert model["state"] == "ACTIVE"
    assert model["owner"] == ("e2e", "alpha")

    result = repo.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes." in result.stdout
    result = repo.apply()
    assert result.exit_code == 0 and "No changes." in result.stdout
    assert len(repo.models()) == 1


def test_in_progress_is_not_a_change(repo: Repo) -> None:
    repo.write("alpha")
    assert repo.apply().exit_code == 0
    assert repo.actions() == [("alpha", "in-progress")]
    assert repo.cli("plan", "--detailed-exitcode").exit_code == 0


def test_update_patches_in_place(repo: Repo) -> None:
    repo.write("alpha")
    wait_until_trained(repo)
    before = repo.ids()
    repo.write("alpha", displayName="Alpha v2", description="now with words")
    plan = repo.plan_json()
    (change,) = plan["changes"]
    assert change["action"] == "update"
    assert {d["path"] for d in change["diff"]} == {"displayName", "description"}
    assert repo.apply().exit_code == 0
    assert repo.ids() == before
    (model,) = repo.models()
    assert model["displayName"] == "Alpha v2"
    assert repo.user_description(model) == "now with words"
    assert repo.actions() == [("alpha", "no-op")]


def test_replace_retires_old_model_once_new_is_active(repo: Repo) -> None:
    repo.write("alpha")
    wait_until_trained(repo)
    (old,) = repo.ids()
    repo.write("alpha", hyperparameters={"epochCount": 3, "batchSize": 4})
    (change,) = repo.plan_json()["changes"]
    assert change["action"] == "replace"
    assert change["superseded"] == [old]
    assert change["reasons"] == ["hyperparameters.epochCount changed"]

    # Without --wait the old model keeps serving while the new one trains.
    assert repo.apply().exit_code == 0
    assert len(repo.ids()) == 2
    assert repo.actions() == [("alpha", "in-progress")]

    wait_until_trained(repo)
    (new,) = repo.ids()
    assert new != old
    assert repo.actions() == [("alpha", "no-op")]


def test_replace_with_wait_in_one_run(repo: Repo) -> None:
    repo.write("alpha")
    wait_until_trained(repo)
    (old,) = repo.ids()
    repo.write("alpha", preamble="Next: ")
    assert repo.actions() == [("alpha", "replace")]
    wait_until_trained(repo)
    (new,) = repo.ids()
    assert new != old


def test_superseded_training_model_is_cancelled(repo: Repo) -> None:
    repo.write("alpha")
    assert repo.apply().exit_code == 0  # training starts
    (first,) = repo.ids()
    repo.write("alpha", hyperparameters={"epochCount": 4, "batchSize": 4})
    plan = repo.plan_json()
    assert [(c["action"], c["remote"]) for c in plan["changes"]] == [
        ("cancel", first),
        ("create", None),
    ]
    (notes,) = [c["notes"] for c in plan["changes"] if c["action"] == "cancel"]
    if repo.vertex:
        assert "stop training: cancel the tuning job, then delete its model and endpoint" in notes
    else:  # the Gemini API has no cancel: deleting the model is what stops its training
        assert "stop training: delete the model that is still training" in notes[0]
    assert repo.apply().exit_code == 0
    assert first not in repo.ids()
    assert len(repo.ids()) == 1
    if not repo.vertex:
        with pytest.raises(urllib.error.HTTPError) as gone:
            rest(repo.url, "GET", first)
        assert gone.value.code == 404
        stats = request_json(repo.url, "GET", "_emulator/stats")
        assert not [k for k in stats["requests"] if k.endswith(":cancel")]


def test_removed_manifest_is_deleted_and_prevent_destroy_refuses(repo: Repo) -> None:
    repo.write("alpha")
    repo.write("keep", lifecycle={"preventDestroy": True})
    wait_until_trained(repo)
    repo.remove("alpha")
    assert repo.actions() == [("alpha", "delete"), ("keep", "no-op")]
    assert repo.apply().exit_code == 0
    assert len(repo.models()) == 1

    result = repo.cli("plan", "--destroy")
    assert result.exit_code == 1
    assert "spec.lifecycle.preventDestroy" in result.stderr
    assert "keep.yaml:" in result.stderr
    repo.remove("keep")  # the marker still protects it
    result = repo.cli("plan")
    assert result.exit_code == 1 and "lifecycle.preventDestroy is set" in result.stderr
    assert len(repo.models()) == 1


def test_failed_model_is_recreated(repo: Repo) -> None:
    repo.write("alpha", displayName="EMULATOR_FAIL alpha")
    result = repo.apply("--wait")
    assert result.exit_code == 1
    assert "FAILED" in result.stderr
    (change,) = repo.plan_json()["changes"]
    assert change["action"] == "recreate"
    assert "FAILED" in change["reasons"][0]


def test_destroy_and_target(repo: Repo) -> None:
    repo.write("alpha")
    repo.write("beta")
    assert repo.actions() == [("alpha", "create"), ("beta", "create")]
    assert repo.apply("--target", "beta").exit_code == 0
    assert repo.model_names() == ["beta"]
    assert repo.actions() == [("alpha", "create"), ("beta", "in-progress")]
    result = repo.cli("destroy", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert repo.models() == []


def test_saved_plan_applies_and_stale_plan_is_refused(repo: Repo, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    repo.write("alpha")
    assert repo.cli("plan", "--out", str(saved)).exit_code == 0
    assert repo.secret not in saved.read_text()
    result = repo.cli("apply", "--plan", str(saved))
    assert result.exit_code == 0, result.output
    assert len(repo.models()) == 1

    # The same saved plan again: the world moved on (the model exists now).
    result = repo.cli("apply", "--plan", str(saved))
    assert result.exit_code == 1
    assert "saved plan is stale: the remote models changed" in result.stderr

    assert repo.cli("plan", "--out", str(saved)).exit_code == 0
    repo.write("alpha", displayName="changed after review")
    result = repo.cli("apply", "--plan", str(saved))
    assert result.exit_code == 1
    assert "the manifests or datasets changed" in result.stderr


def test_workspaces_are_isolated_and_unmanaged_models_untouched(repo: Repo) -> None:
    hand_made = repo.create_unmanaged("hand-made", "by hand")
    repo.write("alpha")
    assert repo.apply().exit_code == 0
    assert repo.apply(workspace="staging").exit_code == 0
    names = repo.ids()
    assert len(names) == 3 and hand_made in names

    result = repo.cli("destroy", "--auto-approve", workspace="staging")
    assert result.exit_code == 0, result.output
    remaining = repo.ids()
    assert hand_made in remaining and len(remaining) == 2
    assert hand_made not in repo.cli("plan", "--destroy").stdout


def test_import_adopts_an_unmanaged_model(repo: Repo) -> None:
    legacy = repo.create_unmanaged("legacy")
    repo.write("alpha")
    time.sleep(1.5)  # let the legacy model finish training (Vertex AI: its Model exists then)
    result = repo.cli("import", "alpha", legacy, str(repo.root))
    assert result.exit_code == 0, result.output
    assert repo.actions() == [("alpha", "update")]  # displayName differs: patched, not retrained
    result = repo.cli("import", "alpha", legacy, str(repo.root), workspace="other")
    assert result.exit_code == 1 and "refusing to take it over" in result.stderr


def test_json_plan_matches_schema(repo: Repo) -> None:
    repo.write("alpha")
    doc = repo.plan_json()
    jsonschema.Draft202012Validator(plan_schema()).validate(doc)
    assert doc["workspace"] == "e2e" and doc["backend"] == repo.backend


def test_base_model_without_tuning_support_is_refused(repo: Repo) -> None:
    repo.write("alpha", baseModel=repo.untunable)
    result = repo.cli("plan")
    assert result.exit_code == 1
    assert f"spec.baseModel: base model {repo.untunable} does not support tuning" in (result.stderr)
    assert "Vertex AI" in result.stderr
    repo.write("alpha", baseModel=repo.unknown_base)
    result = repo.cli("plan")
    assert result.exit_code == 1 and "not found" in result.stderr


def test_apply_without_terminal_or_approval_refuses_and_changes_nothing(repo: Repo) -> None:
    repo.write("alpha")
    result = repo.cli("apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert repo.models() == []


def test_apply_takes_yes_from_a_pipe_like_terraform(repo: Repo) -> None:
    """``echo yes | gitops-tune apply``: one line is read from a standard input that is not a
    terminal; anything but ``yes`` cancels."""
    repo.write("alpha")
    result = repo.cli("apply", input="no\n")
    assert result.exit_code == 1 and "apply cancelled: nothing was changed" in result.stderr
    assert repo.models() == []
    result = repo.cli("apply", input="yes\n")
    assert result.exit_code == 0, result.output
    assert "Only 'yes' will be accepted: yes" in result.stdout
    assert len(repo.models()) == 1


def test_markdown_plan(repo: Repo) -> None:
    repo.write("alpha", dataset={"examples": examples(25, "x")})
    result = repo.cli("plan", "--format", "markdown")
    assert result.exit_code == 0
    assert "| 🟢 | `alpha` | **create** |" in result.stdout


def test_api_key_never_printed(repo: Repo, tmp_path: Path) -> None:
    repo.write("alpha")
    outputs = [
        repo.cli("plan"),
        repo.cli("plan", "--format", "json"),
        repo.cli("plan", "--format", "markdown"),
        repo.apply("--wait"),
        repo.cli("status"),
        repo.cli("output", "--format", "json"),
        repo.cli("plan", "--target", "nope"),
        repo.cli("import", "alpha", "tunedModels/nope", str(repo.root)),
    ]
    for result in outputs:
        assert repo.secret not in result.output and repo.secret not in (result.stderr or "")


def test_status_and_output(repo: Repo) -> None:
    repo.write("alpha", preamble="Next: ")
    wait_until_trained(repo)
    result = repo.cli("status")
    assert result.exit_code == 0
    assert "alpha" in result.stdout and "ACTIVE" in result.stdout and "current" in result.stdout
    result = repo.cli("output", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["models"]["alpha"]["state"] == "ACTIVE"
    assert doc["models"]["alpha"]["preamble"] == "Next: "
    assert doc["models"]["alpha"]["model"].startswith(repo.call_prefix)


def test_lost_answers_are_retried_without_duplicates(repo: Repo) -> None:
    """A third of all answers are lost after the change was made (the nasty fault mode): the
    creates that did happen are found again (409 and adopt on the Gemini API, the ID label
    on Vertex AI), never duplicated."""
    repo.write("alpha")
    repo.write("beta")
    config = {"fault_rate": 0.3, "fault_mode": "after", "fault_codes": [503]}
    request = urllib.request.Request(
        f"{repo.url}/_emulator/config", data=json.dumps(config).encode(), method="POST"
    )
    urllib.request.urlopen(request).read()
    with patch.dict(os.environ, {"GITOPS_TUNE_RETRY_ATTEMPTS": "40"}):
        result = repo.apply()
    assert result.exit_code == 0, result.output
    config["fault_rate"] = 0.0
    request = urllib.request.Request(
        f"{repo.url}/_emulator/config", data=json.dumps(config).encode(), method="POST"
    )
    urllib.request.urlopen(request).read()
    assert sorted(repo.model_names()) == ["alpha", "beta"]
    assert {action for _, action in repo.actions()} <= {"in-progress", "no-op"}
