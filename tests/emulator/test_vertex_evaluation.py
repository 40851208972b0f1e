"""The emulator's ``evaluationConfig``: refused where Google's types refuse it, scored as
documented in `gitops_tune.emulator.vertex.evaluation`."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tune.emulator.api import ApiError
from gitops_tune.emulator.vertex import evaluation
from gitops_tune.providers.tuning_evaluation import run_from, summary

OUT = {"gcsDestination": {"outputUriPrefix": "gs://b/eval"}}


def refusal(config: Any) -> str:
    with pytest.raises(ApiError) as caught:
        evaluation.check(config)
    return str(caught.value)


def test_what_the_types_refuse() -> None:
    assert "metrics is required" in refusal({"outputConfig": OUT})
    assert "outputConfig is required" in refusal({"metrics": [{"exactMatchSpec": {}}]})
    two = {"metrics": [{"exactMatchSpec": {}, "bleuSpec": {}}], "outputConfig": OUT}
    assert "exactly one metric spec (got 2)" in refusal(two)
    rouge = {"metrics": [{"rougeSpec": {"rougeType": "rougel"}}], "outputConfig": OUT}
    assert "rougen[1-9], rougeL, and rougeLsum" in refusal(rouge)
    judged = {"metrics": [{"pointwiseMetricSpec": {}}], "outputConfig": OUT}
    assert "needs a judge model" in refusal(judged)
    bad = {"metrics": [{"bleuSpec": {}, "aggregationMetrics": ["MEAN"]}], "outputConfig": OUT}
    assert "'MEAN' is not one of" in refusal(bad)
    assert "Unknown name" in refusal({"metrics": [{"bleuSpec": {}}], "outputConfig": OUT, "x": 1})


def test_nulls_are_unset_and_runs_are_per_checkpoint() -> None:
    config = evaluation.check(
        {
            "metrics": [
                {"exactMatchSpec": {}, "aggregationMetrics": ["AVERAGE", "MINIMUM"]},
                {"bleuSpec": None, "rougeSpec": {"rougeType": "rouge1", "useStemmer": None}},
            ],
            "outputConfig": OUT,
        }
    )
    assert config["metrics"][1] == {
        "rougeSpec": {"rougeType": "rouge1"},
        "aggregationMetrics": ["AVERAGE"],
    }
    cases = [("q1", "yes"), ("q2", "no way")]
    runs = evaluation.runs(
        config, cases, lambda q: "yes", ["1", "2"], "projects/p/locations/l", "7", "gs://b/v"
    )
    assert [r["checkpointId"] for r in runs] == ["1", "2"]
    results = runs[0]["evaluateDatasetResponse"]["aggregationOutput"]["aggregationResults"]
    assert [
        (r["aggregationMetric"], next(v["score"] for k, v in r.items() if k != "aggregationMetric"))
        for r in results
    ] == [
        ("AVERAGE", 0.5),
        ("MINIMUM", 0.0),
        ("AVERAGE", 0.5),  # rouge1: 1.0 for "yes", 0.0 for "no way"
    ]
    read = run_from(
        {
            "checkpointId": "2",
            "evaluateDatasetResponse": {
                "aggregationOutput": {
                    "aggregationResults": [
                        {
                            "aggregationMetric": "AVERAGE",
                            "exactMatchMetricValue": {"score": 0.5},
                        }
                    ]
                }
            },
        }
    )
    assert summary([read]) == "exactMatch 0.5000 (checkpoint 2)"
    failed = run_from({"checkpointId": "1", "error": {"code": 3, "message": "no data"}})
    assert summary([failed]) == "failed (checkpoint 1): no data"


def test_scores() -> None:
    assert evaluation.rouge("rougeL", ["a", "b", "c"], ["a", "c"]) == pytest.approx(0.8)
    assert (
        evaluation.bleu(
            ["the", "cat", "sat", "on", "the", "mat"], ["the", "cat", "sat", "on", "the", "mat"]
        )
        == 1.0
    )
    assert evaluation.bleu(["x"], ["the", "cat"]) < 0.1
