"""A model cancelled mid-training, with an evaluation declared (Gemini API: the cancelled
model is kept and answers, "unpredictable" as the fine-tuning guide's "Canceled models" says;
a cancelled Vertex AI tuning job leaves no model to evaluate). It is evaluated like any other:
it serves only if it passes; rejected, it is retrained as a FAILED model always was."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, start
from tests.e2e.conftest import API_KEY, Repo, repo_for
from tests.e2e.test_evaluation import HELD_OUT, TOPICS, served
from tests.harness import request_json

KEY = {"x-goog-api-key": API_KEY}


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Repo]:
    """The Gemini API dialect with 10 s of training (a step a second), to cancel in."""
    with start(EmulatorConfig(port=0, train_seconds=10.0)) as running:
        yield repo_for("gemini", tmp_path, running)


def tickets(interleaved: bool) -> list[dict[str, str]]:
    """10 tickets a label: label by label, or alternating (so any prefix has both)."""
    rows = [{"text_input": f"{TOPICS[k]} {i}", "output": k} for k in TOPICS for i in range(10)]
    return [rows[j // 2 + 10 * (j % 2)] for j in range(20)] if interleaved else rows


def cancel_early(repo: Repo, **evaluation: Any) -> str:
    """Start training, cancel it once a step or two is done; the model's ID."""
    assert repo.apply().exit_code == 0
    (model,) = [m["name"] for m in repo.models()]
    while True:
        ops = request_json(repo.url, "GET", f"v1beta/{model}/operations", headers=KEY)
        (op,) = ops["operations"]
        if op["metadata"].get("completedSteps", 0) >= 1:
            break
        time.sleep(0.05)
    request_json(repo.url, "POST", f"v1/{op['name']}:cancel", {}, KEY)
    assert repo.models()[0]["state"] == "FAILED"
    return str(model)


def gated(repo: Repo, interleaved: bool, evaluated: bool = True) -> None:
    evaluation = {"dataset": {"examples": HELD_OUT}, "metric": "labelAccuracy", "minScore": 0.8}
    spec: dict[str, Any] = {"dataset": {"examples": tickets(interleaved)}}
    if evaluated:
        spec["evaluation"] = evaluation
    repo.write("alpha", **spec)


def test_a_cancelled_model_that_passes_serves(slow: Repo) -> None:
    gated(slow, interleaved=True)
    model = cancel_early(slow)
    assert slow.actions() == [("alpha", "evaluate")]
    result = slow.apply("--wait")
    assert result.exit_code == 0, result.output
    assert served(slow) == model  # it learned a few examples of each label: enough
    assert '"serving": true' in slow.cli("output", "--format", "json").stdout
    assert slow.actions() == [("alpha", "no-op")]
    out = slow.plan_json()
    assert out["changes"][0]["remote_state"] == "FAILED"


def test_a_cancelled_model_that_fails_never_serves_and_is_retrained(slow: Repo) -> None:
    gated(slow, interleaved=False)
    cancel_early(slow)
    result = slow.apply("--wait")
    assert result.exit_code == 1, result.output  # it learned only billing tickets
    assert "rejected at score 0.5000 < 0.8000" in result.output
    out = slow.cli("output", "--format", "json")
    assert '"serving": false' in out.stdout, out.output
    plan = slow.plan_json()
    (change,) = plan["changes"]
    assert change["action"] == "recreate", change
    assert "cancelled mid-training; rejected at score 0.5000" in change["reasons"][0]
    retrained = slow.apply("--wait")  # trained to the end, it knows both labels
    assert retrained.exit_code == 0, retrained.output
    assert '"serving": true' in slow.cli("output", "--format", "json").stdout


def test_without_an_evaluation_a_cancelled_model_is_retrained_as_before(slow: Repo) -> None:
    gated(slow, interleaved=True, evaluated=False)
    cancel_early(slow)
    assert slow.actions() == [("alpha", "recreate")]
