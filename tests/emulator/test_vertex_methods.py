"""The Vertex AI dialect's tuning methods beyond supervised tuning: each method's job runs with
its own spec echoed and its own data stats, and what the service refuses is refused with a
Google-shaped error (400 INVALID_ARGUMENT): no reward config, no teacher, a base model the
method is not offered for, a preference row without its pair of completions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from tests.harness import request_json

BUCKET = "data"
AUTH = {"Authorization": "Bearer t"}
JOBS = "v1beta1/projects/p/locations/us-central1/tuningJobs"
USER = {"role": "user", "parts": [{"text": "Which label?"}]}
PREFERENCE: dict[str, Any] = {
    "contents": [USER],
    "completions": [
        {"score": 1, "completion": {"role": "model", "parts": [{"text": "billing"}]}},
        {"score": 0, "completion": {"role": "model", "parts": [{"text": "no idea"}]}},
    ],
}
PROMPT = {"contents": [USER], "references": {"label": "billing"}}
REWARD = {
    "stringMatchRewardScorer": {
        "correctAnswerReward": 1.0,
        "stringMatchExpression": {
            "matchOperation": "EXACT_MATCH",
            "expression": "{{references.label}}",
        },
    }
}


def upload(url: str, name: str, rows: list[dict[str, Any]]) -> str:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    request = urllib.request.Request(
        f"{url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={name}",
        data=data,
        method="POST",
    )
    urllib.request.urlopen(request).close()
    return f"gs://{BUCKET}/{name}"


@pytest.fixture
def vertex() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(port=0, train_seconds=0.3, catalog="current")
    with start(config) as running:
        request_json(running.url, "POST", "storage/v1/b?project=p", {"name": BUCKET})
        yield running


def refused(url: str, body: dict[str, Any]) -> str:
    with pytest.raises(urllib.error.HTTPError) as e:
        request_json(url, "POST", JOBS, body, AUTH)
    assert e.value.code == 400
    error = json.loads(e.value.read())["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    return str(error["message"])


def test_each_method_runs_with_its_spec_and_its_data_stats(vertex: RunningEmulator) -> None:
    url = vertex.url
    prefs, prompts = upload(url, "p.jsonl", [PREFERENCE] * 3), upload(url, "r.jsonl", [PROMPT] * 3)
    specs: dict[str, tuple[str, dict[str, Any], str]] = {
        "preferenceOptimizationSpec": (
            "gemini-2.5-flash",
            {"trainingDatasetUri": prefs, "hyperParameters": {"beta": 0.2}},
            "preferenceOptimizationDataStats",
        ),
        "reinforcementTuningSpec": (
            "gemini-3.5-flash",
            {
                "trainingDatasetUri": prompts,
                "singleRewardConfig": REWARD,
                "hyperParameters": {"samplesPerPrompt": 8},
            },
            "reinforcementTuningDataStats",
        ),
        "distillationSpec": (
            "gemini-2.5-flash",
            {"promptDatasetUri": prompts, "baseTeacherModel": "gemini-3.1-pro"},
            "distillationDataStats",
        ),
    }
    for key, (base, spec, stats) in specs.items():
        job = request_json(url, "POST", JOBS, {"baseModel": base, key: spec}, AUTH)
        assert "supervisedTuningSpec" not in job
        echoed = job[key]
        assert echoed["hyperParameters"]["epochCount"] == "5"  # the default, filled in
        for name, value in spec.items():
            if name != "hyperParameters":
                assert echoed[name] == value
        assert stats in job["tuningDataStats"]
    beta = request_json(url, "GET", f"{JOBS}?pageSize=10", headers=AUTH)["tuningJobs"][-1]
    assert beta["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.2


def test_what_the_service_refuses_is_refused(vertex: RunningEmulator) -> None:
    url = vertex.url
    prompts = upload(url, "r.jsonl", [PROMPT] * 3)
    rl = {"trainingDatasetUri": prompts}
    assert "singleRewardConfig or compositeRewardConfig is required" in refused(
        url, {"baseModel": "gemini-3.5-flash", "reinforcementTuningSpec": rl}
    )
    message = refused(
        url,
        {
            "baseModel": "gemini-2.5-pro",
            "reinforcementTuningSpec": {**rl, "singleRewardConfig": REWARD},
        },
    )
    assert message == (
        "Base model gemini-2.5-pro does not support reinforcement tuning. Supported: "
        "gemini-3.5-flash."
    )
    assert "baseTeacherModel or tunedTeacherModelSource is required" in refused(
        url, {"baseModel": "gemini-2.5-flash", "distillationSpec": {"promptDatasetUri": prompts}}
    )
    lonely = {**PREFERENCE, "completions": PREFERENCE["completions"][:1]}
    bad = upload(url, "bad.jsonl", [lonely])
    assert "line 1: completions must be one preferred (1) and one dispreferred (0)" in refused(
        url,
        {
            "baseModel": "gemini-2.5-flash",
            "preferenceOptimizationSpec": {"trainingDatasetUri": bad},
        },
    )
    both = {"supervisedTuningSpec": {"trainingDatasetUri": prompts}, "distillationSpec": {}}
    assert "Exactly one of" in refused(url, {"baseModel": "gemini-2.5-flash", **both})
