"""desired.evaluation: chat rows in an evaluation set (inline, a local file, a ``gs://`` object
on Vertex AI), read as conversations; each row a tuned model cannot be asked refused at its
line before anything is created."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from gitops_tune.dataset import Conversation, Example
from gitops_tune.desired import load
from gitops_tune.errors import UserError
from gitops_tune.evaluation import EvaluationSpec
from gitops_tune.gatekeeper import prompt_of
from gitops_tune.providers.base import Turns
from gitops_tune.settings import Invocation
from tests.conftest import Tree, tuned_model

SYSTEM = {"parts": [{"text": "Route tickets."}]}
VERTEX = (
    "apiVersion: gitops-tune/v1\nkind: Workspace\nmetadata:\n  name: demo\n"
    "spec:\n  backend: vertex\n  vertex: {project: p, stagingBucket: gs://b}\n"
)
IMAGE = {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/receipt.png"}}


def turn(role: str, *parts: Mapping[str, Any]) -> dict[str, Any]:
    return {"role": role, "parts": list(parts)}


def text(value: str) -> dict[str, str]:
    return {"text": value}


def chat_row(i: int, system: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "contents": [
            turn("user", text("hello")),
            turn("model", text("what is it?")),
            turn("user", text(f"charged twice {i}")),
            turn("model", text("billing")),
        ]
    }
    if system:
        row["systemInstruction"] = SYSTEM
    return row


def jsonl(rows: Iterable[object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def gated(tree: Tree, dataset: str, extra: str = "") -> None:
    tree.write(
        "m.yaml",
        tuned_model(
            extra_spec=extra + f"  evaluation:\n    dataset: {dataset}\n    minScore: 0.5\n"
        ),
    )


def evaluation(remote_objects: Any = None, remote_read: Any = None) -> EvaluationSpec:
    state = load(
        ["."], Invocation.from_environ(), remote_objects=remote_objects, remote_read=remote_read
    )
    (model,) = state.models
    assert model.evaluation is not None
    return model.evaluation


def errors(**remote: Any) -> list[str]:
    with pytest.raises(UserError) as e:
        load(["."], Invocation.from_environ(), **remote)
    return [str(d) for d in e.value.diagnostics]


def test_chat_rows_of_a_file_are_conversations_asked_up_to_their_last_model_turn(
    tree: Tree,
) -> None:
    tree.write("held.jsonl", jsonl([chat_row(1), {"text_input": "a", "output": "b"}]))
    gated(tree, "{path: held.jsonl}")
    spec = evaluation()
    assert spec.count == 2
    first, second = spec.examples()
    assert isinstance(first, Conversation) and second == Example("a", "b")
    assert first.output == "billing"
    asked = prompt_of(first)
    assert isinstance(asked, Turns)
    assert [t["role"] for t in asked.contents] == ["user", "model", "user"]
    assert asked.contents[-1]["parts"] == [{"text": "charged twice 1"}]
    assert asked.system_instruction is None
    assert prompt_of(second) == "a"  # a pair is asked as the one text it was trained on


def test_inline_chat_rows_are_read_too(tree: Tree) -> None:
    gated(tree, "{examples: [" + json.dumps(chat_row(2)) + "]}")
    (example,) = evaluation().examples()
    assert isinstance(example, Conversation) and example.output == "billing"


def test_a_system_instruction_is_refused_at_its_line_on_the_gemini_api(tree: Tree) -> None:
    tree.write("held.jsonl", jsonl([chat_row(1), chat_row(2, system=True), chat_row(3)]))
    gated(tree, "{path: held.jsonl}")
    assert errors() == [
        "held.jsonl:2: systemInstruction: the Gemini API takes no system instruction with a "
        'tuned model ("Fine-tuning with the Gemini API", "Limitations of tuned models")'
    ]


def test_an_inline_system_instruction_names_its_field(tree: Tree) -> None:
    gated(tree, "{examples: [" + json.dumps(chat_row(2, system=True)) + "]}")
    (error,) = errors()
    assert error.startswith("m.yaml:")
    assert "spec.evaluation.dataset.examples[0].systemInstruction: the Gemini API takes no " in (
        error
    )


def test_media_is_refused_at_its_part_on_the_gemini_api(tree: Tree) -> None:
    row = {"contents": [turn("user", IMAGE, text("total?")), turn("model", text("12"))]}
    tree.write("held.jsonl", jsonl([chat_row(1), row]))
    gated(tree, "{path: held.jsonl}")
    assert errors() == [
        "held.jsonl:2: contents[0].parts[0].fileData: the Gemini API takes only text input "
        'with a tuned model ("Fine-tuning with the Gemini API", "Limitations of tuned models")'
    ]


def test_chat_rows_with_a_preamble_are_refused(tree: Tree) -> None:
    tree.write("held.jsonl", jsonl([chat_row(1)]))
    gated(tree, "{path: held.jsonl}", extra="  preamble: 'Route: '\n")
    (error,) = errors()
    assert "spec.preamble: spec.evaluation.dataset has chat examples: write the preamble into " in (
        error
    )


def test_a_bad_chat_row_is_one_error_at_its_line(tree: Tree) -> None:
    ends_with_user = {"contents": [turn("user", text("hi"))]}
    unknown = {"contents": chat_row(1)["contents"], "tools": []}
    tree.write("held.jsonl", jsonl([chat_row(1), ends_with_user, unknown]))
    gated(tree, "{path: held.jsonl}")
    assert errors() == [
        "held.jsonl:2: contents[0].role: the conversation must end with a 'model' turn",
        "held.jsonl:3: tools: unknown field 'tools' (allowed: contents, systemInstruction, "
        "generationConfig)",
    ]


def test_vertex_takes_a_system_instruction_and_checks_media_objects(tree: Tree) -> None:
    tree.write("w.yaml", VERTEX)
    row = {"contents": [turn("user", IMAGE, text("total?")), turn("model", text("12"))]}
    tree.write("held.jsonl", jsonl([chat_row(1, system=True), row]))
    tree.write(
        "m.yaml",
        tuned_model(
            extra_spec="  evaluation:\n    dataset: {path: held.jsonl}\n    minScore: 0.5\n"
        ).replace("models/gemini-1.5-flash-001-tuning", "gemini-2.5-flash"),
    )
    stored = {"contentType": "image/png", "size": "10", "generation": "1"}
    found: dict[str, Any] = {"gs://b/receipt.png": stored}
    spec = evaluation(remote_objects=lambda uris: {u: found.get(u) for u in uris})
    first, _ = spec.examples()
    asked = prompt_of(first)
    assert isinstance(asked, Turns) and asked.system_instruction == SYSTEM
    found["gs://b/receipt.png"] = {**stored, "generation": "2"}  # the image replaced
    again = evaluation(remote_objects=lambda uris: {u: found.get(u) for u in uris})
    assert again.key != spec.key  # so is the set: its scores are measured again
    found.clear()
    (error,) = errors(remote_objects=lambda uris: dict.fromkeys(uris))
    assert error == (
        "held.jsonl:2: contents[0].parts[0].fileData.fileUri: no such object: gs://b/receipt.png"
    )
