"""The two features of issue 19 together, end to end on the vertex backend against the
emulator: the two-stage recipe of Google's preference-tuning guide (supervised tuning on the
preferred responses, then preference tuning that continues from its checkpoint), as a
pipeline of stages (``spec.from``) whose second stage has ``spec.method.preference``."""

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
from tests.e2e.test_stages import of
from tests.e2e.test_vertex_methods import created, preference_rows, write_rows

SFT, PREF = "support-sft", "support-pref"
ROWS = 20


@pytest.fixture
def prepo(tmp_path: Path) -> Iterator[tuple[Repo, Path]]:
    """The vertex backend on the emulator, recording the wire (--record-wire joins it)."""
    wire = tmp_path / "wire"
    config = EmulatorConfig(port=0, train_seconds=1.0, operation_seconds=0.2, record_dir=str(wire))
    with start(config) as running:
        yield repo_for("vertex", tmp_path, running), wire
    corpus = process_recorder()
    for i, file in enumerate(sorted(wire.glob("*.jsonl")) if corpus is not None else []):
        assert corpus is not None
        shutil.copy(file, corpus.folder / f"pipeline-{tmp_path.name}-{i}.jsonl")


def sft_rows(tag: str = "") -> list[dict[str, Any]]:
    """Supervised rows from the preference rows' preferred responses (the guide's first stage)."""
    out = []
    for row in preference_rows(ROWS):
        best = next(c["completion"] for c in row["completions"] if c["score"] == 1)
        prompt = [{**t, "parts": [{"text": tag + t["parts"][0]["text"]}]} for t in row["contents"]]
        out.append({"contents": [*prompt, best]})
    return out


def two_stages(
    repo: Repo, *, sft_tag: str = "", beta: float = 0.1, checkpoint: str = "last"
) -> None:
    repo.write(SFT, dataset={"path": write_rows(repo, f"sft{sft_tag}.jsonl", sft_rows(sft_tag))})
    repo.write(
        PREF,
        **{"from": {"model": SFT, "checkpoint": checkpoint}},
        method={"preference": {"beta": beta}},
        dataset={"path": write_rows(repo, "prefs.jsonl", preference_rows(ROWS))},
    )


def changes(repo: Repo) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in repo.plan_json()["changes"]}


def applied(repo: Repo) -> None:
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output


def test_sft_then_preference_applies_in_order_from_an_empty_workspace(
    prepo: tuple[Repo, Path],
) -> None:
    repo, wire = prepo
    two_stages(repo)
    plan = repo.plan_json()
    assert [(c["name"], c["action"]) for c in plan["changes"]] == [
        (SFT, "create"),
        (PREF, "create"),
    ]
    assert plan["changes"][1]["depends_on"] == [SFT]
    applied(repo)
    (sft,), (pref,) = of(repo, SFT), of(repo, PREF)
    assert pref["createTime"] >= sft["endTime"]
    body = next(b for b in created(wire) if "preferenceOptimizationSpec" in b)
    job = types.TuningJob.model_validate(body)  # strict: google-genai forbids unknown fields
    last = max(sft["tunedModel"]["checkpoints"], key=lambda c: int(c["epoch"]))
    assert job.pre_tuned_model == types.PreTunedModel(
        tuned_model_name=sft["tunedModel"]["model"], checkpoint_id=last["checkpointId"]
    )
    assert job.base_model is None and job.supervised_tuning_spec is None
    spec = job.preference_optimization_spec
    assert spec is not None and spec.hyper_parameters is not None
    assert spec.hyper_parameters.beta == 0.1
    assert spec.training_dataset_uri
    assert pref["state"] == "JOB_STATE_SUCCEEDED"
    assert "preferenceOptimizationDataStats" in pref["tuningDataStats"]
    assert sorted(repo.actions()) == [(PREF, "no-op"), (SFT, "no-op")]


def test_a_changed_first_stage_dataset_retrains_both(prepo: tuple[Repo, Path]) -> None:
    repo, _ = prepo
    two_stages(repo)
    applied(repo)
    two_stages(repo, sft_tag="v2-")
    found = changes(repo)
    assert (found[SFT]["action"], found[SFT]["reason_codes"]) == ("replace", ["dataset_changed"])
    assert (found[PREF]["action"], found[PREF]["reason_codes"]) == ("replace", ["parent_changed"])
    assert found[PREF]["reasons"] == [f"parent {SFT} changes"]
    applied(repo)
    assert (
        of(repo, PREF)[-1]["preTunedModel"]["tunedModelName"]
        == (of(repo, SFT)[-1]["tunedModel"]["model"])
    )
    assert sorted(repo.actions()) == [(PREF, "no-op"), (SFT, "no-op")]


def test_a_changed_beta_retrains_only_the_second_stage(prepo: tuple[Repo, Path]) -> None:
    repo, _ = prepo
    two_stages(repo)
    applied(repo)
    two_stages(repo, beta=0.3)
    found = changes(repo)
    assert found[SFT]["action"] == "no-op"
    assert (found[PREF]["action"], found[PREF]["reason_codes"]) == ("replace", ["method_changed"])
    applied(repo)
    (first,) = of(repo, SFT)
    assert of(repo, PREF)[-1]["preTunedModel"]["tunedModelName"] == first["tunedModel"]["model"]
    assert of(repo, PREF)[-1]["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.3


def test_status_shows_what_each_method_reports_of_its_data(prepo: tuple[Repo, Path]) -> None:
    repo, _ = prepo
    two_stages(repo)
    applied(repo)
    shown = repo.cli("status", "--format", "json")
    assert shown.exit_code == 0, shown.output
    rows = {r["name"]: r for r in json.loads(shown.stdout)["models"]}
    (pref,) = of(repo, PREF)
    reported = pref["tuningDataStats"]["preferenceOptimizationDataStats"]
    assert rows[PREF]["data_stats"] == {
        "method": "preference",
        "examples": int(reported["tuningDatasetExampleCount"]),
        "steps": int(reported["tuningStepCount"]),
        "billable_tokens": int(reported["totalBillableTokenCount"]),
        "billable_characters": None,
        "dropped": [],
    }
    assert rows[PREF]["billable_tokens"] == int(reported["totalBillableTokenCount"])
    assert rows[SFT]["data_stats"]["method"] == "supervised"
    text = repo.cli("status").stdout
    line = next(t for t in text.splitlines() if t.startswith(PREF))
    assert f"{ROWS} examples, {reported['tuningStepCount']} steps" in line, text
