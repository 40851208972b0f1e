"""The Vertex AI fields google-cloud-aiplatform's protos lack (a ``TuningJob``'s
``preferenceOptimizationSpec`` and ``reinforcementTuningSpec`` in 2.7) are judged by Vertex
AI's v1beta1 discovery document instead, as strictly: `strict.discovery_split`."""

from __future__ import annotations

from typing import Any

from conformance.strict import problem
from conformance.upstream import binding_for

CREATE = "/v1beta1/projects/p/locations/us-central1/tuningJobs"


def body(spec: dict[str, Any]) -> dict[str, Any]:
    return {"baseModel": "gemini-2.5-flash", "tunedModelDisplayName": "m", **spec}


def check(value: dict[str, Any]) -> str | None:
    binding = binding_for("POST", CREATE)
    assert binding is not None and binding.api == "aiplatform v1beta1"
    return problem(binding, value, response=False)


def test_a_preference_spec_parses_and_an_unknown_field_in_it_does_not() -> None:
    spec = {"trainingDatasetUri": "gs://b/o", "hyperParameters": {"beta": 0.1, "epochCount": 2}}
    assert check(body({"preferenceOptimizationSpec": spec})) is None
    spec["hyperParameters"] = {"beta": 0.1, "gamma": 1}
    found = check(body({"preferenceOptimizationSpec": spec}))
    assert found is not None and "unknown field 'gamma'" in found


def test_proto3_json_names_and_int64_forms_are_taken_and_types_still_checked() -> None:
    scorer = {"correct_answer_reward": 1, "stringMatchExpression": {"expression": "x"}}
    reward = {"stringMatchRewardScorer": scorer}
    spec = {"singleRewardConfig": reward, "hyperParameters": {"epochCount": "3"}}
    assert check(body({"reinforcementTuningSpec": spec})) is None
    spec["hyperParameters"] = {"samplesPerPrompt": "4"}  # int32: a number
    found = check(body({"reinforcementTuningSpec": spec}))
    assert found is not None and "samplesPerPrompt: expected integer" in found


def test_a_field_neither_knows_is_still_refused() -> None:
    found = check(body({"someFutureSpec": {}}))
    assert found is not None
