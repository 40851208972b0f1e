"""The rows of each tuning method's dataset (gitops_tune/dataset/methods.py): what a valid row
becomes parses into google-genai's own type for it, and a bad row is one diagnostic at its
file:line with the field path in the row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from gitops_tune.dataset import file_source
from gitops_tune.dataset import methods as data


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def model(text: str) -> dict[str, Any]:
    return {"role": "model", "parts": [{"text": text}]}


PREFERENCE = {
    "contents": [user("What is my favorite fruit?")],
    "completions": [
        {"score": 1, "completion": model("Apple! Apple! Apple!")},
        {"score": 0, "completion": model("Your favorite fruit is apple.")},
    ],
}
REINFORCEMENT = {
    "systemInstruction": {"parts": [{"text": "Answer in JSON."}]},
    "contents": [user("What is the capital of France?")],
    "references": {"answer": "Paris"},
    "tools": [{"functionDeclarations": [{"name": "lookup"}]}],
}
DISTILLATION = {"contents": [user("Explain photosynthesis."), model("..."), user("Shorter?")]}


def test_a_preference_row_is_googles_preference_example() -> None:
    found = data.parse("preference", PREFERENCE, ())
    example = types.GeminiPreferenceExample.model_validate(json.loads(found.line))
    assert example.completions is not None and example.completions[0].score == 1
    assert found.output == "Apple! Apple! Apple!"


def test_a_reinforcement_row_is_googles_reinforcement_example() -> None:
    found = data.parse("reinforcement", REINFORCEMENT, ())
    example = types.ReinforcementTuningExample.model_validate(json.loads(found.line))
    assert example.references == {"answer": "Paris"}
    assert example.tools is not None and len(example.tools) == 1


def test_a_distillation_prompt_ends_with_a_user_turn() -> None:
    found = data.parse("distillation", DISTILLATION, ())
    assert json.loads(found.line)["contents"][-1]["role"] == "user"


@pytest.mark.parametrize(
    ("method", "row", "error"),
    [
        (
            "preference",
            {**PREFERENCE, "completions": PREFERENCE["completions"][:1]},
            "completions: must be a pair of completions",
        ),
        (
            "preference",
            {
                **PREFERENCE,
                "completions": [
                    {"score": 1, "completion": model("a")},
                    {"score": 1, "completion": model("b")},
                ],
            },
            "completions: one completion must score 1 and the other 0",
        ),
        (
            "preference",
            {**PREFERENCE, "completions": [{"score": 0.5, "completion": model("a")}] * 2},
            "completions[0].score: must be 0 or 1 (got 0.5)",
        ),
        (
            "reinforcement",
            {**REINFORCEMENT, "contents": [user("q"), model("a")]},
            "contents[1].role: the prompt must end with a 'user' turn",
        ),
        (
            "reinforcement",
            {**REINFORCEMENT, "references": {"answer": 4}},
            "references.answer: must be a string (got int)",
        ),
        ("distillation", {**DISTILLATION, "completions": []}, "completions: unknown field"),
    ],
)
def test_a_bad_row_is_one_error_at_its_line(
    tmp_path: Path, method: str, row: dict[str, Any], error: str
) -> None:
    path = tmp_path / "d.jsonl"
    good = {"preference": PREFERENCE, "reinforcement": REINFORCEMENT}.get(method, DISTILLATION)
    path.write_text(json.dumps(good) + "\n" + json.dumps(row) + "\n")
    scan = data.scan(file_source(str(path), "d.jsonl"), method, "gemini-2.5-flash", {})
    (found,) = scan.errors
    assert str(found).startswith(f"d.jsonl:2: {error}"), str(found)
    assert scan.count == 2


def test_the_fingerprint_is_the_rows_and_stream_yields_them(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(PREFERENCE) + "\n")
    source = file_source(str(path), "d.jsonl")
    scan = data.scan(source, "preference", "gemini-2.5-flash", {"epochCount": 2})
    assert (scan.count, scan.errors) == (1, ())
    other = data.scan(source, "preference", "gemini-2.5-flash", {"epochCount": 3})
    assert other.fingerprint != scan.fingerprint
    rows = list(
        data.stream(source, "preference", "gemini-2.5-flash", {"epochCount": 2}, scan.fingerprint)
    )
    assert [json.loads(r.line) for r in rows] == [PREFERENCE]
