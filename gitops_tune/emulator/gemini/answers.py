"""How a tuned model answers ``generateContent``: the prompt's text, the training example it
is nearest to, and the response the API sends.

The emulator does no inference: a tuned model answers with the output of the example whose
input equals the prompt, else of the most similar one, so tests can predict every answer.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_tune.emulator.api import invalid

JSON_MODE_FIELDS = ("responseSchema", "responseJsonSchema")


def check_supported(body: Mapping[str, Any], model: str) -> None:
    """Refuse what a tuned model does not support. The Gemini API's fine-tuning guide
    ("Limitations"): "System instruction is not supported with tuned models" and "JSON mode
    is not supported with tuned models"; the messages are the service's own for a model
    without them ("Developer instruction is not enabled for models/...", "Json mode is not
    enabled for models/...")."""
    if body.get("systemInstruction") is not None:
        raise invalid(f"Developer instruction is not enabled for {model}")
    config = body.get("generationConfig")
    if not isinstance(config, Mapping):
        return
    json_mode = config.get("responseMimeType") == "application/json" or any(
        config.get(f) is not None for f in JSON_MODE_FIELDS
    )
    if json_mode:
        raise invalid(f"Json mode is not enabled for {model}")


def prompt_text(body: Mapping[str, Any], text_only: bool = True) -> str:
    """What a ``generateContent`` request asks, as `conversation_text` of its turns (a single
    turn: that turn's text). ``text_only``: any part but text is refused, as the Gemini API's
    tuned models take "Only text input"; otherwise other parts are skipped."""
    contents = body.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise invalid("contents is required and must be a non-empty list.")
    for turn in contents:
        if not isinstance(turn, dict) or not isinstance(turn.get("parts"), list):
            raise invalid("contents[].parts must be a list of parts.")
        parts = turn["parts"]
        if text_only and (not parts or not all(isinstance(p, dict) and "text" in p for p in parts)):
            raise invalid("Only text input is supported by tuned models.")
        if any(isinstance(p, dict) and not isinstance(p.get("text", ""), str) for p in parts):
            raise invalid("contents[].parts[].text must be a string.")
    return conversation_text(contents, body.get("systemInstruction"))


def conversation_text(contents: Sequence[Any], system: object = None) -> str:
    """The text of a conversation, a line per turn (the system instruction's first, where
    there is one): what a tuned model's answer is looked up by. A single user turn is its
    text, so a pair's input is its own key."""
    turns = [system, *contents] if isinstance(system, dict) else list(contents)
    lines = []
    for turn in turns:
        parts = turn.get("parts") if isinstance(turn, dict) else None
        found = [p.get("text") for p in parts or [] if isinstance(p, dict)]
        lines.append("".join(t for t in found if isinstance(t, str)))
    return "\n".join(lines)


def generate_content_json(
    model_id: str, prompt: str, text: str, version: str = ""
) -> dict[str, Any]:
    """The ``GenerateContentResponse``; ``version`` is its ``modelVersion`` (by default the
    Gemini API's ``tunedModels/{model_id}``)."""
    prompt_tokens = max(1, len(prompt.split()))
    answer_tokens = max(1, len(text.split()))
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens,
            "totalTokenCount": prompt_tokens + answer_tokens,
        },
        "modelVersion": version or f"tunedModels/{model_id}",
    }


def answer_for(prompt: str, examples: Sequence[tuple[str, str]]) -> str:
    """The output of the example whose input equals ``prompt``, else of the most similar one
    (difflib ratio, case-insensitive; ties go to the earliest example)."""
    for text_input, output in examples:
        if text_input == prompt:
            return output
    best_output, best_score = "", -1.0
    wanted = prompt.casefold()
    for text_input, output in examples:
        score = difflib.SequenceMatcher(None, wanted, text_input.casefold()).ratio()
        if score > best_score:
            best_output, best_score = output, score
    return best_output


def jsonl_examples(data: bytes) -> list[tuple[str, str]]:
    """(prompt, answer) pairs of a supervised-tuning JSONL object: each line's conversation up
    to its last model turn (`conversation_text`, its system instruction included) and that
    turn's text (lines that are not examples are skipped: they were checked at create)."""
    pairs = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            row = json.loads(line) if line.strip() else {}
            contents = row.get("contents", [])
        except (ValueError, AttributeError):
            continue
        turns = [t for t in contents if isinstance(t, dict)] if isinstance(contents, list) else []
        models = [i for i, t in enumerate(turns) if t.get("role") == "model"]
        if not models or not any(t.get("role") == "user" for t in turns[: models[-1]]):
            continue
        last = models[-1]
        answer = conversation_text(turns[last : last + 1])
        pairs.append((conversation_text(turns[:last], row.get("systemInstruction")), answer))
    return pairs
