"""``countTokens`` for base models, in both dialects: the Gemini API's
``POST /v1beta/models/{model}:countTokens`` (GenerativeService.CountTokens) and Vertex AI's
``POST /{version}/projects/{project}/locations/{location}/publishers/google/models/{model}:
countTokens`` (PredictionService.CountTokens).

The emulator has no tokenizer: each text part counts Google's rule of thumb from "Understand
and count tokens", about four characters a token, rounded up per part. Deterministic, so tests
can assert the exact total. Only text parts count; other parts count nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gitops_tune.emulator.api import (
    Request,
    Response,
    Route,
    invalid,
    not_found,
    proto_json,
    reject_unknown,
)
from gitops_tune.emulator.gemini.catalog import BaseModel
from gitops_tune.emulator.vertex import wire as vertex_wire

CHARS_PER_TOKEN = 4
#: CountTokensRequest fields (generativelanguage v1beta; aiplatform v1beta1 and v1).
GEMINI_FIELDS = ("model", "contents", "generateContentRequest")
VERTEX_FIELDS = (
    "endpoint",
    "model",
    "instances",
    "contents",
    "systemInstruction",
    "tools",
    "generationConfig",
)


def tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def text_parts(contents: object, where: str) -> Iterable[str]:
    """The text of every part of a ``contents`` list; a malformed one is a 400."""
    if not isinstance(contents, list):
        raise invalid(f"Invalid value at '{where}': expected a list of Content.")
    for i, content in enumerate(contents):
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list):
            raise invalid(f"Invalid value at '{where}[{i}].parts': expected a list of Part.")
        for part in parts:
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str):
                yield text


def count(texts: Iterable[str]) -> tuple[int, int]:
    """(tokens, characters) of ``texts``."""
    total = chars = 0
    for t in texts:
        total += tokens(t)
        chars += len(t)
    return total, chars


def _details(total: int) -> list[dict[str, Any]]:
    return [{"modality": "TEXT", "tokenCount": total}] if total else []


class CountTokens:
    """The two ``countTokens`` routes; ``gemini_models`` is the Gemini API's catalog."""

    def __init__(self, gemini_models: Callable[[], Mapping[str, BaseModel]]) -> None:
        self.gemini_models = gemini_models

    def routes(self) -> list[Route]:
        publisher = f"{vertex_wire.LOCATION}/publishers/google/models/{{model}}:countTokens"
        return [
            Route("POST", "/v1beta/models/{id}:countTokens", self.gemini),
            # v1beta1 only: google-genai's Vertex AI version (in v1, Google binds this path
            # to LlmUtilityService, which the tool does not call).
            Route("POST", f"/v1beta1{publisher}", self.vertex, auth="bearer"),
        ]

    def gemini(self, req: Request) -> Response:
        name = f"models/{req.params['id']}"
        model = self.gemini_models().get(name)
        if model is None:
            raise not_found(f"Model {name} is not found for the emulated API version.")
        if "countTokens" not in model.methods:
            raise invalid(f"{name} does not support countTokens.")
        body = proto_json(req.json())
        reject_unknown(body, GEMINI_FIELDS, "CountTokensRequest")
        nested = body.get("generateContentRequest")
        if "contents" in body and nested is not None:
            raise invalid("Only one of contents and generateContentRequest may be set.")
        if isinstance(nested, dict):
            contents: object = nested.get("contents", [])
            where = "generate_content_request.contents"
        else:
            contents, where = body.get("contents", []), "contents"
        total, _ = count(text_parts(contents, where))
        return Response(200, {"totalTokens": total, "promptTokensDetails": _details(total)})

    def vertex(self, req: Request) -> Response:
        name = req.params["model"]
        if name not in (*vertex_wire.TUNABLE_BASE_MODELS, *vertex_wire.OTHER_BASE_MODELS):
            raise not_found(f"Publisher Model `publishers/google/models/{name}` not found.")
        body = proto_json(req.json())
        reject_unknown(body, VERTEX_FIELDS, "CountTokensRequest")
        texts = list(text_parts(body.get("contents", []), "contents"))
        system = body.get("systemInstruction")
        if system is not None:
            texts += text_parts([system], "system_instruction")
        total, chars = count(texts)
        return Response(
            200,
            {
                "totalTokens": total,
                "totalBillableCharacters": chars,
                "promptTokensDetails": _details(total),
            },
        )
