"""Pipelines of stages end to end on the vertex backend against the emulator: a model that
continues from another of the workspace (``spec.from.model``) is planned and applied as a
graph, parents first, from the parent's tuned model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, start
from tests.e2e.conftest import Repo, repo_for, vertex_rest
from tests.e2e.test_evaluation import HELD_OUT, degrade, tickets
from tests.harness import examples

PARENT, CHILD = "support-sft", "support-more"


@pytest.fixture
def vrepo(tmp_path: Path) -> Iterator[Repo]:
    with start(EmulatorConfig(port=0, train_seconds=1.0, operation_seconds=0.2)) as running:
        yield repo_for("vertex", tmp_path, running)


def jobs(repo: Repo) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = vertex_rest(repo.url, "GET", "tuningJobs?pageSize=1000").get(
        "tuningJobs", []
    )
    return sorted(found, key=lambda j: str(j["createTime"]))


def of(repo: Repo, name: str) -> list[dict[str, Any]]:
    return [j for j in jobs(repo) if j["labels"].get("gitops_tune_name") == name]


def pipeline(repo: Repo, *, parent_tag: str = "", child: dict[str, Any] | None = None) -> None:
    repo.write(PARENT, dataset={"examples": examples(tag=parent_tag)})
    spec = {"from": {"model": PARENT}, "dataset": {"examples": examples(tag="more")}}
    repo.write(CHILD, **{**spec, **(child or {})})


def changes(repo: Repo, *args: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in repo.plan_json(*args)["changes"]}


def applied(repo: Repo) -> None:
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output


def test_a_two_stage_pipeline_applies_in_order_from_an_empty_workspace(vrepo: Repo) -> None:
    pipeline(vrepo)
    plan = vrepo.plan_json()
    assert [(c["name"], c["action"]) for c in plan["changes"]] == [
        (PARENT, "create"),
        (CHILD, "create"),
    ]
    child = plan["changes"][1]
    assert child["depends_on"] == [PARENT] and plan["changes"][0]["depends_on"] == []
    assert any(f"continues from {PARENT} (checkpoint last)" in n for n in child["notes"])
    assert {"path": "from", "before": None, "after": {"model": PARENT, "checkpoint": "last"}} in (
        child["diff"]
    )
    applied(vrepo)
    (parent_job,), (child_job,) = of(vrepo, PARENT), of(vrepo, CHILD)
    assert child_job["createTime"] >= parent_job["endTime"]  # created once the parent was ACTIVE
    pre = child_job["preTunedModel"]
    assert pre["tunedModelName"] == parent_job["tunedModel"]["model"]
    last = max(parent_job["tunedModel"]["checkpoints"], key=lambda c: int(c["epoch"]))
    assert pre["checkpointId"] == last["checkpointId"]
    assert "baseModel" not in child_job  # one of baseModel and preTunedModel
    assert child_job["state"] == "JOB_STATE_SUCCEEDED"
    assert sorted(vrepo.actions()) == [(CHILD, "no-op"), (PARENT, "no-op")]


def test_a_changed_first_stage_retrains_both_with_the_parents_reason_on_the_child(
    vrepo: Repo,
) -> None:
    pipeline(vrepo)
    applied(vrepo)
    pipeline(vrepo, parent_tag="v2-")
    found = changes(vrepo)
    assert found[PARENT]["action"] == "replace"
    assert found[PARENT]["reason_codes"] == ["dataset_changed"]
    assert found[CHILD]["action"] == "replace"
    assert found[CHILD]["reasons"] == [f"parent {PARENT} changes"]
    assert found[CHILD]["reason_codes"] == ["parent_changed"]
    text = vrepo.cli("plan").stdout
    assert f"# parent {PARENT} changes" in text
    applied(vrepo)
    new_parent = of(vrepo, PARENT)[-1]
    assert (
        of(vrepo, CHILD)[-1]["preTunedModel"]["tunedModelName"]
        == (new_parent["tunedModel"]["model"])
    )  # the child continues from the parent's new model
    assert sorted(vrepo.actions()) == [(CHILD, "no-op"), (PARENT, "no-op")]


def test_changing_only_the_second_stage_retrains_only_the_child(vrepo: Repo) -> None:
    pipeline(vrepo)
    applied(vrepo)
    pipeline(vrepo, child={"hyperparameters": {"epochCount": 3}})
    found = changes(vrepo)
    assert found[PARENT]["action"] == "no-op"
    assert found[CHILD]["action"] == "replace"
    assert found[CHILD]["reason_codes"] == ["hyperparameters_changed"]


def test_target_child_plans_its_parent_too(vrepo: Repo) -> None:
    pipeline(vrepo)
    vrepo.write("other")
    plan = vrepo.plan_json("--target", CHILD)
    assert [c["name"] for c in plan["changes"]] == [PARENT, CHILD]
    assert plan["targets"] == [CHILD]


def test_destroy_removes_children_before_parents(vrepo: Repo) -> None:
    pipeline(vrepo)
    applied(vrepo)
    result = vrepo.cli("destroy", "--auto-approve")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.endswith(" done")]
    order = [line.split(":", 1)[0] for line in lines]
    assert order == [CHILD, PARENT], result.stdout
    assert sorted(vrepo.actions()) == [(CHILD, "create"), (PARENT, "create")]  # all gone


def test_without_wait_the_child_is_deferred_until_its_parent_is_active(vrepo: Repo) -> None:
    pipeline(vrepo)
    result = vrepo.apply()
    assert result.exit_code == 0, result.output
    assert "Deferred until their parent is ready" in result.stdout
    assert f"waits for parent {PARENT}" in result.stdout
    assert of(vrepo, CHILD) == [] and len(of(vrepo, PARENT)) == 1
    applied(vrepo)
    assert len(of(vrepo, CHILD)) == 1 and len(of(vrepo, PARENT)) == 1


def test_a_failed_parent_stops_the_child_and_apply_says_why(vrepo: Repo) -> None:
    pipeline(vrepo)
    vrepo.write(PARENT, displayName="sft EMULATOR_FAIL", dataset={"examples": examples()})
    result = vrepo.apply("--wait")
    assert result.exit_code == 1
    assert re.search(rf"{CHILD}: create \S+: parent {PARENT} \(\S+\) FAILED", result.output), (
        result.output
    )
    assert of(vrepo, CHILD) == []


@pytest.mark.parametrize(
    ("parent_from", "message"),
    [
        ({"model": CHILD}, "a cycle of stages: support-more -> support-sft -> support-more"),
        ({"model": "support-sfx"}, None),
    ],
)
def test_a_cycle_or_a_dangling_reference_is_one_error_at_its_line(
    vrepo: Repo, parent_from: dict[str, str], message: str | None
) -> None:
    pipeline(vrepo)
    if message is None:  # a dangling reference: the child names a model nobody declares
        vrepo.write(CHILD, **{"from": parent_from}, dataset={"examples": examples()})
        message = "unknown model 'support-sfx'"
        where = CHILD
    else:
        vrepo.write(PARENT, **{"from": parent_from}, dataset={"examples": examples()})
        where = CHILD  # a cycle is told once, at its first name's spec.from.model
    for command in ("validate", "plan", "apply"):
        args = ("apply", "--auto-approve") if command == "apply" else (command,)
        result = vrepo.cli(*args) if command != "validate" else vrepo.cli(command, str(vrepo.root))
        assert result.exit_code == 1, result.output
        errors = [line for line in result.output.splitlines() if "spec.from.model" in line]
        assert len(errors) == 1, result.output
        assert re.match(rf".*{where}\.yaml:\d+:\d+: spec\.from\.model: ", errors[0]), errors
        assert message in errors[0]
        assert "Traceback" not in result.output
    assert jobs(vrepo) == []


def gated_pipeline(repo: Repo) -> None:
    """The parent has an evaluation gate (labelAccuracy >= 0.8 on a held-out set)."""
    evaluation = {"dataset": {"examples": HELD_OUT}, "metric": "labelAccuracy", "minScore": 0.8}
    repo.write(PARENT, dataset={"examples": tickets()}, evaluation=evaluation)
    repo.write(CHILD, **{"from": {"model": PARENT}}, dataset={"examples": tickets(11)})


def test_a_gated_parent_is_evaluated_and_passes_before_its_child_is_created(vrepo: Repo) -> None:
    gated_pipeline(vrepo)
    plan = vrepo.plan_json()
    assert any("passed its evaluation" in n for n in plan["changes"][1]["notes"]), plan
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    scored = max(i for i, line in enumerate(lines) if line.startswith(f"{PARENT}: evaluating"))
    made = next(i for i, line in enumerate(lines) if re.match(rf"{CHILD}: create \S+ done", line))
    assert scored < made, result.output  # the child's job was created once the parent passed
    (parent_job,), (child_job,) = of(vrepo, PARENT), of(vrepo, CHILD)
    assert child_job["createTime"] >= parent_job["endTime"]
    assert "1.0000 passed" in vrepo.cli("status").stdout
    assert sorted(vrepo.actions()) == [(CHILD, "no-op"), (PARENT, "no-op")]


def test_a_child_is_never_created_when_its_parent_is_rejected(vrepo: Repo) -> None:
    degrade(vrepo, "all")  # every tuned model answers wrongly: the parent scores 0
    gated_pipeline(vrepo)
    result = vrepo.apply("--wait")
    assert result.exit_code == 1, result.output
    assert "rejected at score 0.0000 < 0.8000" in result.output
    assert f"parent {PARENT} was rejected by its evaluation" in result.output, result.output
    assert of(vrepo, CHILD) == [] and len(of(vrepo, PARENT)) == 1
    again = vrepo.apply("--wait")  # still rejected: still no child
    assert again.exit_code == 1 and of(vrepo, CHILD) == [], again.output


def test_a_changed_checkpoint_alone_retrains_the_child_and_says_so(vrepo: Repo) -> None:
    pipeline(vrepo)
    applied(vrepo)
    pipeline(vrepo, child={"from": {"model": PARENT, "checkpoint": 1}})
    found = changes(vrepo)
    assert found[PARENT]["action"] == "no-op"
    assert found[CHILD]["action"] == "replace"
    assert found[CHILD]["reason_codes"] == ["from_checkpoint_changed"]
    assert found[CHILD]["reasons"] == ["from.checkpoint changed (last -> 1)"]
    assert {"path": "from.checkpoint", "before": "last", "after": "1"} in found[CHILD]["diff"]
    assert "# from.checkpoint changed (last -> 1)" in vrepo.cli("plan").stdout
    applied(vrepo)
    (parent_job,) = of(vrepo, PARENT)
    first = next(c for c in parent_job["tunedModel"]["checkpoints"] if int(c["epoch"]) == 1)
    assert of(vrepo, CHILD)[-1]["preTunedModel"]["checkpointId"] == first["checkpointId"]
    assert sorted(vrepo.actions()) == [(CHILD, "no-op"), (PARENT, "no-op")]
