"""How a tuned model answers ``generateContent``: the prompt's text, the training example it
is nearest to, and the response the API sends.

The emulator does no inference: a tuned model answers with the output of the example whose
input equals the prompt, else of the most similar one, so tests can predict every answer.
"""

from __future__ import annotations

import difflib
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


def prompt_text(body: Mapping[str, Any]) -> str:
    contents = body.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise invalid("contents is required and must be a non-empty list.")
    last = contents[-1]
    if not isinstance(last, dict) or not isinstance(last.get("parts"), list):
        raise invalid("contents[].parts must be a list of parts.")
    texts = [p["text"] for p in last["parts"] if isinstance(p, dict) and "text" in p]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise invalid("Only text input is supported by tuned models.")
    return "".join(texts)


def generate_content_json(model_id: str, prompt: str, text: str) -> dict[str, Any]:
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
        "modelVersion": f"tunedModels/{model_id}",
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
