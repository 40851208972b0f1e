"""How the emulator's tuned models answer: a request's whole conversation is what they look
up, a single turn its text (as before); the Gemini API's tuned models take text only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitops_tune.emulator.api import ApiError
from gitops_tune.emulator.gemini.answers import answer_for, jsonl_examples, prompt_text

SYSTEM = {"parts": [{"text": "Route tickets."}]}


def turn(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"text": text}]}


def test_a_single_turn_is_its_text_and_a_conversation_is_a_line_a_turn() -> None:
    assert prompt_text({"contents": [turn("user", "hello")]}) == "hello"
    assert prompt_text({"contents": {"parts": [{"text": "a"}, {"text": "b"}]}}) == "ab"
    body = {
        "systemInstruction": SYSTEM,
        "contents": [turn("user", "charged twice"), turn("model", "noted"), turn("user", "queue?")],
    }
    assert prompt_text(body) == "Route tickets.\ncharged twice\nnoted\nqueue?"


def test_training_lines_are_keyed_by_the_conversation_before_their_last_model_turn() -> None:
    pair = {"contents": [turn("user", "hello"), turn("model", "hi")]}
    contents = [
        turn("user", "charged twice"),
        turn("model", "noted"),
        turn("user", "queue?"),
        turn("model", "billing"),
    ]
    chat = {"systemInstruction": SYSTEM, "contents": contents}
    not_an_example = {"contents": [turn("model", "alone")]}
    data = "\n".join(json.dumps(r) for r in (pair, chat, not_an_example)) + "\n{bad\n"
    examples = jsonl_examples(data.encode())
    assert examples == [
        ("hello", "hi"),
        ("Route tickets.\ncharged twice\nnoted\nqueue?", "billing"),
    ]
    asked = {"systemInstruction": SYSTEM, "contents": contents[:3]}
    assert answer_for(prompt_text(asked), examples) == "billing"


def test_media_is_refused_where_tuned_models_take_text_only_and_skipped_elsewhere() -> None:
    image = {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/o.png"}}
    body = {"contents": [{"role": "user", "parts": [image, {"text": "total?"}]}]}
    with pytest.raises(ApiError, match="Only text input is supported by tuned models"):
        prompt_text(body)
    assert prompt_text(body, text_only=False) == "total?"
    with pytest.raises(ApiError, match="parts must be a list"):
        prompt_text({"contents": [turn("user", "a"), {"role": "model"}]})
