"""A ``gs://`` validation set on the vertex backend against the emulator: counted against the
base model's validation-set limit by ``plan`` before anything is created, and read once per
content (an unchanged object is not downloaded again by the next plan)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, start
from tests.e2e.conftest import BUCKET, Repo, repo_for
from tests.e2e.test_chat import conversation, errors, jsonl, upload


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Repo, Path]]:
    monkeypatch.chdir(tmp_path)  # the tool's home folder, .gitops-tune/, is made here
    wire = tmp_path / "wire"
    config = EmulatorConfig(port=0, train_seconds=0.5, operation_seconds=0.1, record_dir=str(wire))
    with start(config) as running:
        yield repo_for("vertex", tmp_path, running), wire


def exchanges(wire: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(wire.glob("*.jsonl")) for line in f.open()]


def downloads(wire: Path, name: str) -> int:
    """Reads of object ``name``'s bytes (``alt=media``), as the emulator recorded them."""
    return sum(
        1
        for e in exchanges(wire)
        if e["route"].startswith("GET ")
        and e["query"].get("alt") == ["media"]
        and e["path"].endswith(f"/{BUCKET}/o/{name}")
    )


def created(wire: Path) -> list[str]:
    return [e["route"] for e in exchanges(wire) if e["route"].endswith("tuningJobs")]


def with_validation(repo: Repo, rows: int) -> str:
    name = "held/valid.jsonl"
    text = jsonl([conversation(i) for i in range(rows)])
    upload(repo, name, text.encode(), "application/jsonl")
    (repo.root / "train.jsonl").write_text(jsonl([conversation(i) for i in range(24)]))
    uri = f"gs://{BUCKET}/{name}"
    repo.write("router", dataset={"path": "train.jsonl"}, validation={"uri": uri})
    return uri


def test_a_gs_validation_set_over_the_count_limit_is_refused_by_plan(
    recorded: tuple[Repo, Path],
) -> None:
    repo, wire = recorded
    uri = with_validation(repo, 5001)
    planned = repo.cli("plan")
    assert planned.exit_code == 1, planned.output
    (line,) = errors(planned.output)
    assert line.endswith(
        f"spec.validation.uri: {uri} holds 5,001 validation examples; gemini-2.5-flash takes "
        'at most 5,000 (Google\'s page "About supervised fine-tuning for Gemini models")'
    ), line
    assert repo.apply().exit_code == 1
    assert not [r for r in created(wire) if r.startswith("POST ")]


def test_an_unchanged_gs_validation_set_is_not_downloaded_again(
    recorded: tuple[Repo, Path], tmp_path: Path
) -> None:
    repo, wire = recorded
    with_validation(repo, 30)
    assert repo.actions() == [("router", "create")]
    assert downloads(wire, "held/valid.jsonl") == 1
    assert repo.actions() == [("router", "create")]
    assert downloads(wire, "held/valid.jsonl") == 1  # kept by its content hashes
    with_validation(repo, 5001)  # new content, new hashes: read again, and refused
    planned = repo.cli("plan")
    assert planned.exit_code == 1
    assert "holds 5,001 validation examples" in planned.output
    assert downloads(wire, "held/valid.jsonl") == 2
    assert len(list((tmp_path / ".gitops-tune" / "datasets").iterdir())) == 2
