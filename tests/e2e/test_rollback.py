"""Rollback without retraining, end to end: lifecycle.retainPrevious keeps superseded models,
a reverted manifest restores one (no training), shrinking N cleans them up. Also the loss
curve (`status --loss`), the epochCount note of a replace, and JSON logs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Repo

V1 = {"epochCount": 5, "batchSize": 4}
V2 = {"epochCount": 3, "batchSize": 4}


def roles(repo: Repo) -> dict[str, str]:
    result = repo.cli("status", "--format", "json")
    assert result.exit_code == 0, result.output
    return {m["model"]: m["role"] for m in json.loads(result.stdout)["models"]}


def ids(repo: Repo) -> set[str]:
    return set(repo.ids())


def output_model(repo: Repo, name: str) -> Any:
    result = repo.cli("output", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["models"][name]["model"]


def test_revert_restores_a_retained_model_without_training(repo: Repo) -> None:
    repo.write("alpha", hyperparameters=V1, lifecycle={"retainPrevious": 1})
    assert repo.apply("--wait").exit_code == 0
    (v1,) = ids(repo)
    serving_v1 = output_model(repo, "alpha")  # what an application calls: ID or endpoint

    repo.write("alpha", hyperparameters=V2, lifecycle={"retainPrevious": 1})
    assert repo.actions() == [("alpha", "replace")]
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    (v2,) = ids(repo) - {v1}
    # v1 is kept, not deleted, and status says why.
    assert roles(repo) == {v1: "retained", v2: "current"}
    status = repo.cli("status").stdout
    assert any(v1 in line and "retained" in line for line in status.splitlines())
    assert output_model(repo, "alpha") not in (None, serving_v1)

    # git revert: the manifest is v1 again -> restore, no create, no training.
    repo.write("alpha", hyperparameters=V1, lifecycle={"retainPrevious": 1})
    plan = repo.plan_json()
    assert [(c["name"], c["action"], c["remote"]) for c in plan["changes"]] == [
        ("alpha", "restore", v1)
    ]
    assert plan["summary"]["create"] == plan["summary"]["replace"] == 0
    markdown = repo.cli("plan", "--format", "markdown").stdout
    assert "| ⏪ | `alpha` | **restore** |" in markdown
    assert "Plan: 1 to restore." in markdown

    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert "alpha: restore" in result.stdout and "create" not in result.stdout
    assert ids(repo) == {v1, v2}  # nothing trained, nothing deleted
    assert {m["name"]: m["state"] for m in repo.models()} == {v1: "ACTIVE", v2: "ACTIVE"}
    assert output_model(repo, "alpha") == serving_v1
    assert roles(repo) == {v1: "current", v2: "retained"}
    assert repo.actions() == [("alpha", "no-op")]

    # Shrinking N to 0 cleans the retained model up.
    repo.write("alpha", hyperparameters=V1, lifecycle={"retainPrevious": 0})
    plan = repo.plan_json()
    assert [(c["action"], c["remote"]) for c in plan["changes"]] == [
        ("delete", v2),
        ("no-op", v1),
    ]
    assert repo.apply().exit_code == 0
    assert ids(repo) == {v1}
    assert roles(repo) == {v1: "current"}


def test_without_retention_the_superseded_model_is_deleted(repo: Repo) -> None:
    repo.write("alpha", hyperparameters=V1)
    assert repo.apply("--wait").exit_code == 0
    repo.write("alpha", hyperparameters=V2)
    result = repo.apply("--no-color")
    assert result.exit_code == 0, result.output
    (v1,) = [m for m, role in roles(repo).items() if role == "superseded"]
    assert repo.apply("--wait").exit_code == 0
    assert v1 not in ids(repo) and len(ids(repo)) == 1


# Vertex AI tuning jobs report no per-step loss through the API: loss curves are Gemini-only.
GEMINI_ONLY = pytest.mark.parametrize("repo", ["gemini"], indirect=True)


@GEMINI_ONLY
def test_loss_curve_and_the_epoch_count_note_of_a_replace(repo: Repo) -> None:
    repo.write("alpha", hyperparameters=V1)
    assert repo.apply("--wait").exit_code == 0
    (v1,) = ids(repo)

    result = repo.cli("status", "--loss", "alpha")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"alpha: {v1} (ACTIVE), 25 steps")
    assert "┤" in out and "└" in out and "▲ recommended" in out
    assert "Recommended epochCount: 3: the loss plateaus from epoch 3" in out
    assert out.rstrip().endswith("Declared: 5.")
    doc = json.loads(repo.cli("status", "--loss", v1, "--format", "json").stdout)
    assert doc["recommended_epoch_count"] == 3 and len(doc["epochs"]) == 5

    # A replace that keeps epochCount 5 is told what the finished run recommends.
    repo.write("alpha", hyperparameters=dict(V1, learningRate=0.002))
    (change,) = repo.plan_json()["changes"]
    assert change["action"] == "replace"
    (note,) = change["notes"]
    assert note.startswith(f"the last training run ({v1}): the loss plateaus from epoch 3")
    markdown = repo.cli("plan", "--format", "markdown").stdout
    assert f"> **Note** on `alpha`: {note}" in markdown

    missing = repo.cli("status", "--loss", "nope")
    assert missing.exit_code == 1
    assert "--loss nope: no such model in the workspace; models: alpha" in missing.stderr
    assert repo.cli("status", "--png", "x.png").exit_code == 1


@GEMINI_ONLY
def test_status_png(repo: Repo, tmp_path: Any) -> None:
    repo.write("alpha", hyperparameters=V1)
    assert repo.apply("--wait").exit_code == 0
    png = tmp_path / "loss.png"
    result = repo.cli("status", "--loss", "alpha", "--png", str(png))
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout.rstrip().endswith(f"Wrote {png}.")


def test_json_logs_quiet_and_no_secrets(repo: Repo) -> None:
    repo.write("alpha", hyperparameters=V1)
    result = repo.cli("apply", "--log-format", "json", "--auto-approve", "--wait")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records and all({"level", "message"} <= set(r) for r in records)
    events = {(r.get("event"), r.get("status") or r.get("state")) for r in records}
    assert ("action", "start") in events and ("action", "done") in events
    assert ("progress", "ACTIVE") in events
    (done,) = [r for r in records if r.get("status") == "done" and r["action"] == "create"]
    assert done["name"] == "alpha" and "alpha-" in done["model"]
    assert repo.secret not in result.output
    assert "Apply complete: 1 change(s) made." in result.stdout

    # A user error as one JSON line, after the command this time.
    repo.write("alpha", hyperparameters={"epochCount": 0})
    bad = repo.cli("plan", "--log-format", "json")
    assert bad.exit_code == 1
    (record,) = [json.loads(line) for line in bad.stderr.splitlines()]
    assert record["level"] == "error" and record["field"] == "spec.hyperparameters.epochCount"
    assert record["file"].endswith("alpha.yaml") and record["line"] > 0

    # -q: the result only.
    repo.write("alpha", hyperparameters=V1)
    quiet = repo.cli("apply", "-q", "--auto-approve")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output == "No changes. (1 unchanged)\n"
