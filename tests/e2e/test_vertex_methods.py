"""``spec.method`` end to end on the vertex backend against the emulator: the create request
carries exactly the spec google-genai's types describe, a preference model applies, and a
change of only ``beta`` retrains that model and no other."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from gitops_tune.emulator.recording import process_recorder
from gitops_tune.emulator.server import EmulatorConfig, start
from tests.e2e.conftest import Repo, repo_for
from tests.e2e.test_vertex import jobs, read_alike

RL_BASE = "gemini-3.5-flash"
PREFERENCE_BASE = "gemini-2.5-flash"
EXACT = {
    "rewardName": "exact",
    "stringMatchRewardScorer": {
        "correctAnswerReward": 1.0,
        "wrongAnswerReward": -1.0,
        "stringMatchExpression": {
            "matchOperation": "EXACT_MATCH",
            "expression": "{{references.answer}}",
        },
    },
}
JSON_MATCH = {
    "rewardName": "json",
    "parseResponseConfig": {"parseType": "IDENTITY"},
    "stringMatchRewardScorer": {
        "correctAnswerReward": 1.0,
        "wrongAnswerReward": 0.0,
        "jsonMatchExpression": {
            "keyName": "label",
            "valueStringMatchExpression": {
                "matchOperation": "EXACT_MATCH",
                "expression": "{{references.label}}",
            },
        },
    },
}
COMPOSITE = {
    "weightedRewardConfigs": [
        {"rewardConfig": EXACT, "weight": 2.0},
        {"rewardConfig": JSON_MATCH, "weight": 1.0},
    ]
}


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def _model(text: str) -> dict[str, Any]:
    return {"role": "model", "parts": [{"text": text}]}


def rl_rows(n: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "systemInstruction": {"parts": [{"text": "Answer with JSON."}]},
            "contents": [_user(f"What is {i} + {i}?")],
            "references": {"answer": str(2 * i), "label": "sum"},
        }
        for i in range(n)
    ]


def preference_rows(n: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "contents": [_user(f"Greet customer {i}.")],
            "completions": [
                {"score": 1, "completion": _model(f"Hello, customer {i}! How can I help?")},
                {"score": 0, "completion": _model("hi")},
            ],
        }
        for i in range(n)
    ]


def write_rows(repo: Repo, name: str, rows: list[dict[str, Any]]) -> str:
    path = repo.root / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return name


@pytest.fixture
def mrepo(tmp_path: Path) -> Iterator[tuple[Repo, Path]]:
    """The vertex backend on an emulator serving Google's current catalog, recording."""
    wire = tmp_path / "wire"
    config = EmulatorConfig(port=0, train_seconds=1.0, catalog="current", record_dir=str(wire))
    with start(config) as running:
        yield repo_for("vertex", tmp_path, running), wire
    corpus = process_recorder()  # --record-wire: the conformance suite judges these too
    for i, file in enumerate(sorted(wire.glob("*.jsonl")) if corpus is not None else []):
        assert corpus is not None
        shutil.copy(file, corpus.folder / f"methods-{tmp_path.name}-{i}.jsonl")


def created(wire: Path) -> list[dict[str, Any]]:
    """The tuningJobs.create bodies the tool sent, oldest first."""
    out = []
    for file in sorted(wire.glob("*.jsonl")):
        for line in file.read_text().splitlines():
            rec = json.loads(line)
            post = rec["route"].startswith("POST") and rec["path"].endswith("/tuningJobs")
            if post and "gitops-tune" in rec["client"] and rec["status"] == 200:
                out.append(rec["request"])
    return out


def test_reinforcement_with_a_composite_reward_sends_googles_spec(
    mrepo: tuple[Repo, Path],
) -> None:
    repo, wire = mrepo
    method = {
        "reinforcement": {
            "compositeRewardConfig": COMPOSITE,
            "samplesPerPrompt": 4,
            "evaluateInterval": 5,
            "checkpointInterval": 5,
            "thinkingLevel": "MINIMAL",
        }
    }
    repo.write(
        "solver",
        baseModel=RL_BASE,
        method=method,
        dataset={"path": write_rows(repo, "rl.jsonl", rl_rows())},
        hyperparameters={"epochCount": 2},
    )
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    (body,) = created(wire)
    job = types.TuningJob.model_validate(body)  # strict: google-genai forbids unknown fields
    spec = job.reinforcement_tuning_spec
    assert spec is not None and job.supervised_tuning_spec is None
    assert spec.composite_reward_config == (
        types.CompositeReinforcementTuningRewardConfig.model_validate(COMPOSITE)
    )
    assert spec.single_reward_config is None
    hp = spec.hyper_parameters
    assert hp is not None
    assert (hp.samples_per_prompt, hp.evaluate_interval, hp.checkpoint_interval) == (4, 5, 5)
    assert hp.thinking_level == types.ReinforcementTuningThinkingLevel.MINIMAL
    assert hp.epoch_count == 2
    assert body["baseModel"] == RL_BASE
    (echo,) = jobs(repo).values()
    assert echo["reinforcementTuningSpec"]["compositeRewardConfig"] == COMPOSITE
    assert "reinforcementTuningDataStats" in echo["tuningDataStats"]
    assert repo.actions() == [("solver", "no-op")]  # the job reads back as declared
    read_alike(repo)
    shown = repo.cli("status", "--loss", "solver")
    assert shown.exit_code == 0, shown.output
    assert "reward curve: not published by the tuning job" in shown.output
    stats = echo["tuningDataStats"]["reinforcementTuningDataStats"]
    line = repo.cli("status").stdout.splitlines()[-1]
    assert (
        line.startswith("solver")
        and (
            f"12 examples, {stats['tuningStepCount']} steps, "
            f"{int(stats['totalBillableCharacterCount']):,} characters billed"
        )
        in line
    ), line


def test_a_preference_model_applies_and_only_beta_retrains_it(mrepo: tuple[Repo, Path]) -> None:
    repo, wire = mrepo
    data = {"path": write_rows(repo, "prefs.jsonl", preference_rows())}
    repo.write(
        "polite", baseModel=PREFERENCE_BASE, method={"preference": {"beta": 0.1}}, dataset=data
    )
    repo.write("plain", baseModel=PREFERENCE_BASE)
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    (body,) = [b for b in created(wire) if "preferenceOptimizationSpec" in b]
    spec = types.TuningJob.model_validate(body).preference_optimization_spec
    assert spec is not None and spec.hyper_parameters is not None
    assert spec.hyper_parameters.beta == 0.1
    polite = next(j for j in jobs(repo).values() if "preferenceOptimizationSpec" in j)
    assert polite["state"] == "JOB_STATE_SUCCEEDED"
    assert "preferenceOptimizationDataStats" in polite["tuningDataStats"]
    assert sorted(repo.actions()) == [("plain", "no-op"), ("polite", "no-op")]
    read_alike(repo)

    repo.write(
        "polite", baseModel=PREFERENCE_BASE, method={"preference": {"beta": 0.3}}, dataset=data
    )
    changes = {c["name"]: c for c in repo.plan_json()["changes"]}
    assert changes["plain"]["action"] == "no-op"
    assert changes["polite"]["action"] == "replace"
    assert changes["polite"]["reason_codes"] == ["method_changed"]
    assert [d["path"] for d in changes["polite"]["diff"] if d["path"] != "fingerprint"] == [
        "method.preference.beta"
    ]


def test_a_method_the_base_model_is_not_offered_is_one_error(mrepo: tuple[Repo, Path]) -> None:
    repo, _ = mrepo
    data = {"path": write_rows(repo, "rl.jsonl", rl_rows())}
    method = {"reinforcement": {"singleRewardConfig": EXACT}}
    repo.write("solver", baseModel="gemini-2.5-pro", method=method, dataset=data)
    result = repo.cli("plan")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "not offered" in line]
    assert len(lines) == 1, result.output
    assert "gemini-2.5-pro is not offered reinforcement tuning" in lines[0]
    assert RL_BASE in lines[0] and "solver.yaml:" in lines[0]


def test_a_distillation_model_applies_and_status_shows_its_prompt_stats(
    mrepo: tuple[Repo, Path],
) -> None:
    repo, wire = mrepo
    prompts = [{"contents": [_user(f"Explain refund rule {i}.")]} for i in range(12)]
    method = {"distillation": {"baseTeacherModel": "gemini-3.1-pro"}}
    data = {"path": write_rows(repo, "prompts.jsonl", prompts)}
    repo.write("explainer", baseModel=PREFERENCE_BASE, method=method, dataset=data)
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    (body,) = created(wire)
    spec = types.TuningJob.model_validate(body).distillation_spec
    assert spec is not None and spec.base_teacher_model == "gemini-3.1-pro"
    assert spec.prompt_dataset_uri
    (echo,) = jobs(repo).values()
    stats = echo["tuningDataStats"]["distillationDataStats"]["trainingDatasetStats"]
    shown = json.loads(repo.cli("status", "--format", "json").stdout)["models"][0]["data_stats"]
    assert shown["method"] == "distillation"
    read_alike(repo)
    assert (shown["examples"], shown["steps"], shown["billable_characters"]) == (
        12,
        int(stats["tuningStepCount"]),
        int(stats["totalBillableCharacterCount"]),
    )
    assert repo.actions() == [("explainer", "no-op")]
