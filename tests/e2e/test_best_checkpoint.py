"""``serving: {checkpoint: best}`` end to end on the vertex backend: with apply --wait, each
checkpoint of a new model is scored on spec.evaluation on its own endpoint and the best one
serves; the choice and every checkpoint's score stay on the Model's labels, so a rerun asks
nothing, and plan, status and output show them. The emulator's ``NAME@EPOCH`` degrade switch
makes single checkpoints answer wrongly, so the choice is meaningful."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, start
from tests.e2e.conftest import Repo, counted_prompts, repo_for
from tests.e2e.test_evaluation import HELD_OUT, degrade, tickets
from tests.e2e.test_vertex import jobs, model_version


@pytest.fixture
def vrepo(tmp_path: Path) -> Iterator[Repo]:
    with start(EmulatorConfig(port=0, train_seconds=1.0, operation_seconds=0.1)) as running:
        yield repo_for("vertex", tmp_path, running)


def best(repo: Repo, data: list[dict[str, str]] | None = None, **spec: Any) -> None:
    evaluation = {"dataset": {"examples": HELD_OUT}, "metric": "labelAccuracy", "minScore": 0.8}
    repo.write(
        "alpha",
        dataset={"examples": data or tickets()},
        hyperparameters={"epochCount": 3},
        evaluation=evaluation,
        serving={"checkpoint": "best"},
        **spec,
    )


def serving_epoch(repo: Repo, job: str) -> str:
    checkpoints = jobs(repo)[job]["tunedModel"]["checkpoints"]
    default = model_version(repo, job)["defaultCheckpointId"]
    return str(next(c["epoch"] for c in checkpoints if c["checkpointId"] == default))


def test_the_best_checkpoint_serves_and_a_rerun_asks_nothing(vrepo: Repo) -> None:
    degrade(vrepo, "alpha@1", "alpha@3")  # only the epoch-2 checkpoint answers right
    best(vrepo)
    plan = vrepo.cli("plan")
    assert "checkpoint best: not chosen yet; `gitops-tune apply --wait` scores" in plan.stdout

    started = vrepo.apply()  # no --wait: the choice is left to the next apply --wait
    assert started.exit_code == 0, started.output
    assert "checkpoint best: not chosen yet" in started.output

    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    (job,) = jobs(vrepo)
    checkpoints = jobs(vrepo)[job]["tunedModel"]["checkpoints"]
    assert model_version(vrepo, job)["defaultCheckpointId"] == checkpoints[1]["checkpointId"]
    line = "checkpoint best = epoch 2 (score 1.0000; epochs: 1=0.0000, 2=1.0000, 3=0.0000)"
    assert line in vrepo.cli("status").stdout
    assert line in vrepo.cli("plan").stdout
    assert line in vrepo.cli("output").stdout
    doc = json.loads(vrepo.cli("output", "--format", "json").stdout)["models"]["alpha"]
    assert doc["score"] == 1.0 and doc["serving"] is True
    assert doc["checkpoint"] == {"best": 2, "scores": {"1": 0.0, "2": 1.0, "3": 0.0}}
    status = json.loads(vrepo.cli("status", "--format", "json").stdout)["models"][0]
    assert status["best_checkpoint"]["epoch"] == 2

    with counted_prompts() as asked:
        again = vrepo.apply("--wait")
    assert again.exit_code == 0, again.output
    assert asked == []  # the scores on the Model's labels were used
    assert vrepo.actions() == [("alpha", "no-op")]


def test_a_tie_goes_to_the_earlier_epoch_and_the_gate_judges_the_best(vrepo: Repo) -> None:
    degrade(vrepo, "alpha@3")  # epochs 1 and 2 answer right: a tie
    best(vrepo)
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    (job,) = jobs(vrepo)
    assert serving_epoch(vrepo, job) == "1"

    degrade(vrepo, "all")  # every checkpoint of the next model answers wrongly
    best(vrepo, tickets(11))
    result = vrepo.apply("--wait")
    assert result.exit_code == 1, result.output
    assert "rejected at score 0.0000 < 0.8000" in result.output  # its best checkpoint's score
    output = json.loads(vrepo.cli("output", "--format", "json").stdout)["models"]["alpha"]
    assert output["model"] == jobs(vrepo)[job]["tunedModel"]["endpoint"]  # the old one serves
    assert output["checkpoint"]["best"] == 1  # the serving model's choice


def test_best_is_refused_where_it_cannot_be_kept(vrepo: Repo, tmp_path: Path) -> None:
    vrepo.write("alpha", serving={"checkpoint": "best"})
    result = vrepo.cli("validate", str(vrepo.root))
    assert result.exit_code == 1
    assert "spec.serving.checkpoint: best needs spec.evaluation" in result.output
    best(vrepo, exportLastCheckpointOnly=True)
    result = vrepo.cli("validate", str(vrepo.root))
    assert result.exit_code == 1
    assert "exportLastCheckpointOnly keeps the last only" in result.output
    (tmp_path / "gemini").mkdir()
    with start(EmulatorConfig(port=0)) as running:
        gemini = repo_for("gemini", tmp_path / "gemini", running)
        best(gemini)
        result = gemini.cli("validate", str(gemini.root))
    assert result.exit_code == 1
    assert "spec.serving: serving does not apply to backend gemini" in result.output
