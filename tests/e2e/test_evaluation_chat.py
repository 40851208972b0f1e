"""Chat rows in an evaluation set, end to end (mainly on the vertex backend): a model tuned on
multi-turn conversations is asked each held-out conversation up to its last model turn (its
system instruction and every turn sent as ``contents``), and gated on that turn's text. Every
held-out conversation ends with the same question, so only the turns before it tell the
answer: a runner that sent the last turn alone would score 0.5."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from tests.e2e.conftest import Repo, repo_for
from tests.e2e.test_evaluation import TOPICS, degrade, served, tickets
from tests.e2e.test_evaluation_gcs import upload

SYSTEM = {"parts": [{"text": "You route support tickets."}]}


def conversation(label: str, i: int, wrong: bool = False) -> dict[str, Any]:
    """A ticket, then "which queue?"; ``wrong``: the other label (a bad data change)."""
    answer = next(other for other in TOPICS if (other == label) != wrong)
    return {
        "systemInstruction": SYSTEM,
        "contents": [
            {"role": "user", "parts": [{"text": f"{TOPICS[label]} {i}"}]},
            {"role": "model", "parts": [{"text": "noted"}]},
            {"role": "user", "parts": [{"text": "which queue?"}]},
            {"role": "model", "parts": [{"text": answer}]},
        ],
    }


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


HELD_OUT = jsonl([conversation(label, i) for label in TOPICS for i in (70, 81)])


@pytest.fixture
def wire(tmp_path: Path) -> Path:
    return tmp_path / "wire"


@pytest.fixture
def vrepo(tmp_path: Path, wire: Path) -> Iterator[Repo]:
    config = EmulatorConfig(port=0, train_seconds=0.3, operation_seconds=0.1, record_dir=str(wire))
    with start(config) as running:
        yield repo_for("vertex", tmp_path, running)


def trained(repo: Repo, n: int, evaluation: dict[str, Any], wrong: bool = False) -> None:
    rows = [conversation(label, i, wrong) for label in TOPICS for i in range(n)]
    (repo.root / "tickets.jsonl").write_text(jsonl(rows))
    gate = {"metric": "labelAccuracy", "minScore": 0.8, **evaluation}
    repo.write("alpha", dataset={"path": "tickets.jsonl"}, evaluation=gate)


def asked(wire: Path) -> list[dict[str, Any]]:
    """The generateContent requests the emulator answered."""
    lines = (json.loads(line) for f in wire.glob("*.jsonl") for line in f.read_text().splitlines())
    return [x["request"] for x in lines if x["route"].endswith(":generateContent")]


def test_a_chat_evaluation_set_gates_a_chat_trained_model(vrepo: Repo, wire: Path) -> None:
    (vrepo.root / "held-out.jsonl").write_text(HELD_OUT)
    trained(vrepo, 10, {"dataset": {"path": "held-out.jsonl"}})
    plan = vrepo.cli("plan")
    assert plan.exit_code == 0, plan.output
    # each call's text parts, about four characters a token: the system instruction (26
    # characters, 7 tokens), the ticket ("I was charged twice on invoice 70": 9; "the app
    # crashes with error 70": 8), "noted" (2), "which queue?" (3), the label (2; 3): 23 each
    assert "evaluation ~92 inference tokens (4 calls), not priced" in plan.stdout, plan.output
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert "1.0000 passed" in vrepo.cli("status").stdout
    first = served(vrepo)
    (request, *_) = asked(wire)
    assert request["systemInstruction"] == SYSTEM
    assert [t["role"] for t in request["contents"]] == ["user", "model", "user"]
    assert request["contents"][-1]["parts"] == [{"text": "which queue?"}]

    # the same conversations from a gs:// object: the same set, already scored
    uri = upload(vrepo, "held/out.jsonl", HELD_OUT)
    trained(vrepo, 10, {"dataset": {"uri": uri}})
    calls = len(asked(wire))
    assert vrepo.apply("--wait").exit_code == 0
    assert served(vrepo) == first and len(asked(wire)) == calls

    trained(vrepo, 11, {"dataset": {"uri": uri}})  # more good data: promoted
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    second = served(vrepo)
    assert second != first

    degrade(vrepo, "all")  # every model trained from now on answers wrongly
    trained(vrepo, 12, {"dataset": {"uri": uri}})
    result = vrepo.apply("--wait")
    assert result.exit_code == 1, result.output
    assert "rejected at score 0.0000 < 0.8000" in result.output
    assert served(vrepo) == second  # the old model keeps serving


def test_a_model_trained_on_wrong_answers_is_rejected_on_chat_rows(vrepo: Repo) -> None:
    (vrepo.root / "held-out.jsonl").write_text(HELD_OUT)
    trained(vrepo, 10, {"dataset": {"path": "held-out.jsonl"}})
    assert vrepo.apply("--wait").exit_code == 0
    before = served(vrepo)
    trained(vrepo, 10, {"dataset": {"path": "held-out.jsonl"}}, wrong=True)
    result = vrepo.apply("--wait")
    assert result.exit_code == 1, result.output
    assert "rejected at score 0.0000 < 0.8000" in result.output
    assert served(vrepo) == before


def test_a_bad_chat_row_in_a_gs_evaluation_set_names_its_object_and_line(vrepo: Repo) -> None:
    ends_with_user = {"contents": [{"role": "user", "parts": [{"text": "which queue?"}]}]}
    uri = upload(vrepo, "held/bad.jsonl", HELD_OUT + json.dumps(ends_with_user) + "\n")
    trained(vrepo, 10, {"dataset": {"uri": uri}})
    result = vrepo.cli("plan")
    assert result.exit_code == 1
    assert (
        f"{uri}:5: contents[0].role: the conversation must end with a 'model' turn" in result.output
    ), result.output
    assert vrepo.models() == []


def test_the_gemini_api_asks_multi_turn_rows_and_refuses_a_system_instruction(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    """A model tuned on pairs, evaluated on conversations without a system instruction (the
    Gemini API's tuned models take none: such a row is refused before anything is made)."""
    repo = repo_for("gemini", tmp_path, emulator)
    rows = [conversation(label, i) for label in TOPICS for i in (70, 81)]
    for row in rows:
        del row["systemInstruction"]
    (repo.root / "held-out.jsonl").write_text(jsonl(rows))
    gate = {"dataset": {"path": "held-out.jsonl"}, "metric": "labelAccuracy", "minScore": 0.8}
    repo.write("alpha", dataset={"examples": tickets()}, evaluation=gate)
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert "1.0000 passed" in repo.cli("status").stdout

    rows[2]["systemInstruction"] = SYSTEM
    (repo.root / "held-out.jsonl").write_text(jsonl(rows))
    result = repo.cli("plan")
    assert result.exit_code == 1
    assert "held-out.jsonl:3: systemInstruction: the Gemini API takes no system instruction " in (
        result.output
    ), result.output
