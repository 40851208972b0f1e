"""``spec.evaluation.duringTuning``: the Vertex AI tuning job evaluates its own checkpoints on
the validation examples (``evaluationConfig`` in the create request, ``evaluateDatasetRuns``
on the finished job); `status` shows the scores; the gate stays the judge. Refused on the
Gemini API and without ``spec.validation``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitops_tune.emulator.server import RunningEmulator
from tests.e2e.conftest import Repo, repo_for, vertex_rest
from tests.e2e.test_evaluation import HELD_OUT, tickets
from tests.e2e.test_vertex import read_alike

DURING = {"metrics": ["exactMatch", "rougeL"], "outputUri": "gs://e2e-bucket/eval/"}


def declared(repo: Repo, during: dict[str, Any] | None = DURING, validation: bool = True) -> None:
    evaluation: dict[str, Any] = {
        "dataset": {"examples": HELD_OUT},
        "metric": "labelAccuracy",
        "minScore": 0.8,
    }
    if during is not None:
        evaluation["duringTuning"] = during
    extra = {"validation": {"examples": HELD_OUT}} if validation else {}
    repo.write("alpha", dataset={"examples": tickets()}, evaluation=evaluation, **extra)


def test_the_tuning_job_evaluates_itself(tmp_path: Path, emulator: RunningEmulator) -> None:
    repo = repo_for("vertex", tmp_path, emulator)
    declared(repo)
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    (job_name,) = repo.ids()
    job = vertex_rest(repo.url, "GET", f"tuningJobs/{job_name.rsplit('/', 1)[-1]}")
    config = job["supervisedTuningSpec"]["evaluationConfig"]
    assert [sorted(k for k in m if k.endswith("Spec")) for m in config["metrics"]] == [
        ["exactMatchSpec"],
        ["rougeSpec"],
    ]
    assert config["metrics"][1]["rougeSpec"] == {"rougeType": "rougeL"}
    assert config["outputConfig"] == {"gcsDestination": {"outputUriPrefix": DURING["outputUri"]}}
    runs = job["evaluateDatasetRuns"]
    assert [r["checkpointId"] for r in runs] == ["1", "2"]  # one run per checkpoint (2 epochs)
    results = runs[-1]["evaluateDatasetResponse"]["aggregationOutput"]["aggregationResults"]
    averages = [r for r in results if r["aggregationMetric"] == "AVERAGE"]
    # the model answers every held-out ticket with its nearest training example's label
    assert averages[0]["exactMatchMetricValue"]["score"] == 1.0
    assert averages[1]["rougeMetricValue"]["score"] == 1.0

    status = repo.cli("status")
    assert "Evaluated by the tuning job" in status.stdout, status.output
    assert "exactMatch 1.0000, rouge 1.0000 (checkpoint 2)" in status.stdout
    doc = json.loads(repo.cli("status", "--format", "json").stdout)
    (model,) = doc["models"]
    assert model["tuning_evaluation"][-1]["checkpoint"] == "2"
    assert {"metric": "exactMatch", "aggregation": "AVERAGE", "score": 1.0} in model[
        "tuning_evaluation"
    ][-1]["scores"]
    assert "1.0000 passed" in status.stdout  # our own gate judged, as without duringTuning
    read_alike(repo)


def test_during_tuning_is_refused_where_it_does_not_apply(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "g").mkdir()
    vertex = repo_for("vertex", tmp_path / "v", emulator)
    declared(vertex, validation=False)
    result = vertex.cli("plan")
    assert result.exit_code == 1
    assert "spec.evaluation.duringTuning: duringTuning needs spec.validation" in result.output

    gemini = repo_for("gemini", tmp_path / "g", emulator)
    declared(gemini)
    result = gemini.cli("validate", str(gemini.root))
    assert result.exit_code == 1
    assert "duringTuning" in result.output, result.output

    declared(vertex, during={"metrics": ["meteor"], "outputUri": "gs://b/e"})
    result = vertex.cli("validate", str(vertex.root))
    assert result.exit_code == 1
    assert "spec.evaluation.duringTuning.metrics" in result.output, result.output
