"""Vertex AI users' own data, end to end on the vertex backend against the emulator: the Gemini
chat format (multi-turn, system instruction) from a local JSONL and a ``gs://`` object, image
``fileData`` parts whose objects exist, each bad input as one diagnostic, and each base model's
documented limits refused before anything is created."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, start
from tests.e2e.conftest import BUCKET, Repo, repo_for, vertex_rest
from tests.harness import request_json

SYSTEM = {"role": "system", "parts": [{"text": "You route support tickets."}]}


def conversation(i: int, turns: int = 2) -> dict[str, Any]:
    contents: list[dict[str, Any]] = []
    for t in range(turns):
        contents.append({"role": "user", "parts": [{"text": f"ticket {i} message {t}"}]})
        contents.append({"role": "model", "parts": [{"text": f"queue-{(i + t) % 3}"}]})
    return {"systemInstruction": SYSTEM, "contents": contents}


def image_example(i: int) -> dict[str, Any]:
    part = {"fileData": {"mimeType": "image/png", "fileUri": f"gs://{BUCKET}/images/{i}.png"}}
    return {
        "contents": [
            {"role": "user", "parts": [part, {"text": "What is on this receipt?"}]},
            {"role": "model", "parts": [{"text": f"total {i}"}]},
        ]
    }


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def upload(repo: Repo, name: str, data: bytes, content_type: str) -> None:
    request = urllib.request.Request(
        f"{repo.url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={name}",
        data=data,
        method="POST",
        headers={"Content-Type": content_type},
    )
    urllib.request.urlopen(request).read()


def object_text(repo: Repo, name: str) -> str:
    url = f"{repo.url}/download/storage/v1/b/{BUCKET}/o/{name.replace('/', '%2F')}?alt=media"
    with urllib.request.urlopen(url) as answer:
        return str(answer.read().decode())


def jobs(repo: Repo) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = vertex_rest(repo.url, "GET", "tuningJobs").get("tuningJobs", [])
    return found


@pytest.fixture
def vrepo(tmp_path: Path) -> Iterator[Repo]:
    with start(EmulatorConfig(port=0, train_seconds=0.5, operation_seconds=0.1)) as running:
        yield repo_for("vertex", tmp_path, running)


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": " in line and "warning" not in line]


def test_multi_turn_chat_with_a_system_instruction_is_validated_planned_and_applied(
    vrepo: Repo,
) -> None:
    (vrepo.root / "tickets.jsonl").write_text(jsonl([conversation(i, 3) for i in range(24)]))
    vrepo.write("router", dataset={"path": "tickets.jsonl"}, hyperparameters={"epochCount": 1})
    assert vrepo.cli("validate", str(vrepo.root)).exit_code == 0
    assert vrepo.actions() == [("router", "create")]
    applied = vrepo.apply("--wait")
    assert applied.exit_code == 0, applied.output
    (job,) = jobs(vrepo)
    staged = job["supervisedTuningSpec"]["trainingDatasetUri"].split("/", 3)[3]
    first = json.loads(object_text(vrepo, staged).splitlines()[0])
    assert first["systemInstruction"] == {"parts": [{"text": "You route support tickets."}]}
    assert [t["role"] for t in first["contents"]] == ["user", "model"] * 3
    assert vrepo.actions() == [("router", "no-op")]  # touching nothing plans nothing


def test_the_same_chat_data_in_a_gs_object(vrepo: Repo) -> None:
    upload(
        vrepo,
        "data/tickets.jsonl",
        jsonl([conversation(i) for i in range(24)]).encode(),
        "application/jsonl",
    )
    vrepo.write("router", dataset={"uri": f"gs://{BUCKET}/data/tickets.jsonl"})
    applied = vrepo.apply("--wait")
    assert applied.exit_code == 0, applied.output
    assert [a for _, a in vrepo.actions()] == ["no-op"]


def test_image_parts_whose_objects_exist_and_a_replaced_image_retrains(vrepo: Repo) -> None:
    for i in range(20):
        upload(vrepo, f"images/{i}.png", b"\x89PNG" + bytes([i]), "image/png")
    (vrepo.root / "receipts.jsonl").write_text(jsonl([image_example(i) for i in range(20)]))
    vrepo.write("receipts", dataset={"path": "receipts.jsonl"}, hyperparameters={"epochCount": 1})
    assert vrepo.cli("validate", str(vrepo.root)).exit_code == 0
    applied = vrepo.apply("--wait")
    assert applied.exit_code == 0, applied.output
    assert [a for _, a in vrepo.actions()] == ["no-op"]
    upload(vrepo, "images/7.png", b"\x89PNG another receipt", "image/png")  # a new generation
    assert vrepo.actions() == [("receipts", "replace")]


BAD_ROWS: list[tuple[str, dict[str, Any], str]] = [
    (
        "turn order",
        {"contents": [{"role": "model", "parts": [{"text": "a"}]}]},
        "contents[0].role: is 'model' where 'user' was expected",
    ),
    (
        "no model turn at the end",
        {"contents": [{"role": "user", "parts": [{"text": "a"}]}]},
        "contents[0].role: the conversation must end with a 'model' turn",
    ),
    (
        "empty part",
        {
            "contents": [
                {"role": "user", "parts": [{}]},
                {"role": "model", "parts": [{"text": "b"}]},
            ]
        },
        "contents[0].parts[0]: an empty part",
    ),
    (
        "unknown field",
        {**conversation(0), "tools": []},
        "tools: unknown field 'tools'",
    ),
    (
        "fileUri not gs://",
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"fileData": {"mimeType": "image/png", "fileUri": "https://x/1.png"}}
                    ],
                },
                {"role": "model", "parts": [{"text": "b"}]},
            ]
        },
        "contents[0].parts[0].fileData.fileUri: 'https://x/1.png' is not a Cloud Storage object",
    ),
    (
        "mime type the base model does not accept",
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"fileData": {"mimeType": "video/mp4", "fileUri": f"gs://{BUCKET}/v.mp4"}}
                    ],
                },
                {"role": "model", "parts": [{"text": "b"}]},
            ]
        },
        "contents[0].parts[0].fileData.mimeType: mime type 'video/mp4' is not one "
        "gemini-2.0-flash-001 tunes on",
    ),
    (
        "missing object",
        image_example(99),
        f"contents[0].parts[0].fileData.fileUri: no such object: gs://{BUCKET}/images/99.png",
    ),
    (
        "content type mismatch",
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {
                            "fileData": {
                                "mimeType": "image/png",
                                "fileUri": f"gs://{BUCKET}/images/j.png",
                            }
                        }
                    ],
                },
                {"role": "model", "parts": [{"text": "b"}]},
            ]
        },
        "is stored as 'image/jpeg', but mimeType says 'image/png'",
    ),
]


@pytest.mark.parametrize(("case", "row", "expected"), BAD_ROWS, ids=[c for c, _, _ in BAD_ROWS])
def test_each_bad_row_is_one_diagnostic_at_its_line(
    vrepo: Repo, case: str, row: dict[str, Any], expected: str
) -> None:
    upload(vrepo, "images/j.png", b"jpeg", "image/jpeg")
    rows = [conversation(i) for i in range(24)]
    rows[5] = row
    (vrepo.root / "data.jsonl").write_text(jsonl(rows))
    vrepo.write("m", baseModel="gemini-2.0-flash-001", dataset={"path": "data.jsonl"})
    result = vrepo.cli("validate", str(vrepo.root))
    assert result.exit_code == 1
    found = errors(result.output)
    assert len(found) == 1, result.output
    assert found[0].startswith(f"{vrepo.root / 'data.jsonl'}:6: ") or found[0].startswith(
        "data.jsonl:6: "
    ), found
    assert expected in found[0]


def test_limits_are_refused_by_plan_before_anything_is_created(vrepo: Repo) -> None:
    huge = conversation(0)
    huge["contents"][0]["parts"][0]["text"] = "x" * (131_072 * 4 + 8)
    rows = [conversation(i) for i in range(24)]
    rows[3] = huge
    (vrepo.root / "train.jsonl").write_text(jsonl(rows))
    (vrepo.root / "valid.jsonl").write_text(jsonl([conversation(i) for i in range(5001)]))
    vrepo.write("big", dataset={"path": "train.jsonl"}, validation={"path": "valid.jsonl"})
    planned = vrepo.cli("plan")
    assert planned.exit_code == 1
    assert "train.jsonl:4:" in planned.output
    assert "takes at most 131,072 input and output tokens per training example" in planned.output
    (vrepo.root / "train.jsonl").write_text(jsonl([conversation(i) for i in range(24)]))
    planned = vrepo.cli("plan")
    assert planned.exit_code == 1
    assert (
        "spec.validation: 5,001 validation examples; gemini-2.5-flash takes at most 5,000"
        in planned.output
    )
    assert vrepo.apply().exit_code == 1
    assert jobs(vrepo) == []


def test_the_gemini_api_refuses_chat_rows_once(tmp_path: Path) -> None:
    with start(EmulatorConfig(port=0)) as running:
        repo = repo_for("gemini", tmp_path, running)
        (repo.root / "data.jsonl").write_text(jsonl([conversation(i) for i in range(24)]))
        repo.write("m", dataset={"path": "data.jsonl"})
        result = repo.cli("validate", str(repo.root))
    assert result.exit_code == 1
    assert len(errors(result.output)) == 1, result.output
    assert "data.jsonl:1: the Gemini chat format" in result.output


def test_a_preamble_with_chat_rows_is_one_diagnostic(vrepo: Repo) -> None:
    (vrepo.root / "data.jsonl").write_text(jsonl([conversation(i) for i in range(24)]))
    vrepo.write("m", preamble="Route: ", dataset={"path": "data.jsonl"})
    result = vrepo.cli("validate", str(vrepo.root))
    assert result.exit_code == 1
    assert len(errors(result.output)) == 1, result.output
    assert "spec.preamble: spec.dataset has chat examples" in result.output


def test_an_adapter_size_the_base_model_does_not_list(vrepo: Repo) -> None:
    vrepo.write(
        "m", baseModel="gemini-2.5-pro", hyperparameters={"adapterSize": "ADAPTER_SIZE_SIXTEEN"}
    )
    result = vrepo.cli("validate", str(vrepo.root))
    assert result.exit_code == 1
    assert "gemini-2.5-pro takes adapter sizes 1, 2, 4, 8" in result.output
    assert request_json(vrepo.url, "GET", f"storage/v1/b/{BUCKET}/o").get("items") is None
