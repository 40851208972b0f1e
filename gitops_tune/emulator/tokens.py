"""``countTokens`` for base models, in both dialects: the Gemini API's
``POST /v1beta/models/{model}:countTokens`` (GenerativeService.CountTokens) and Vertex AI's
``POST /{version}/projects/{project}/locations/{location}/publishers/google/models/{model}:
countTokens`` (PredictionService.CountTokens).

The emulator has no tokenizer: each text part counts Google's rule of thumb from "Understand
and count tokens", about four characters a token, rounded up per part. A ``fileData`` part
counts by the rates that page gives: 258 tokens an image (one whose sides are at most 384
pixels; a larger one is cut into 768x768 tiles of 258 tokens each), 263 tokens a second of
video, 32 a second of audio. The emulator does not open the object, so it knows neither an
image's size nor a recording's length: its own choice, stated in docs/emulator.md, is one tile
an image, one second a recording, and a document (PDF, plain text) as one image. Deterministic,
so tests can assert the exact total.
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


#: Tokens of one fileData part by the kind of its mimeType: "Understand and count tokens"
#: (an image of at most 384x384 pixels; a second of video; a second of audio) and, for a
#: document, the emulator's own figure (one image).
MEDIA_TOKENS = {"image": 258, "video": 263, "audio": 32}
DOCUMENT_TOKENS = 258
_MODALITY = {"image": "IMAGE", "video": "VIDEO", "audio": "AUDIO"}


def _file_part(data: object, where: str) -> tuple[str, int]:
    """A fileData part's (modality, tokens); a malformed one is a 400."""
    fields = data if isinstance(data, dict) else {}
    mime, uri = fields.get("mimeType"), fields.get("fileUri")
    if not isinstance(mime, str) or not mime or not isinstance(uri, str) or not uri:
        raise invalid(f"Invalid value at '{where}.file_data': mime_type and file_uri are required.")
    kind = mime.split("/", 1)[0]
    if kind in MEDIA_TOKENS:
        return _MODALITY[kind], MEDIA_TOKENS[kind]
    return "DOCUMENT", DOCUMENT_TOKENS


def parts_of(contents: object, where: str) -> Iterable[tuple[str, int, int]]:
    """(modality, tokens, characters of text) of every part of a ``contents`` list; a
    malformed one is a 400."""
    if not isinstance(contents, list):
        raise invalid(f"Invalid value at '{where}': expected a list of Content.")
    for i, content in enumerate(contents):
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list):
            raise invalid(f"Invalid value at '{where}[{i}].parts': expected a list of Part.")
        for j, part in enumerate(parts):
            part = part if isinstance(part, dict) else {}
            text = part.get("text")
            if isinstance(text, str):
                yield "TEXT", tokens(text), len(text)
            elif "fileData" in part:
                yield (*_file_part(part["fileData"], f"{where}[{i}].parts[{j}]"), 0)


def count(parts: Iterable[tuple[str, int, int]]) -> tuple[int, int, dict[str, int]]:
    """(tokens, characters of text, tokens by modality) of ``parts``."""
    total = chars = 0
    by: dict[str, int] = {}
    for modality, n, c in parts:
        total += n
        chars += c
        by[modality] = by.get(modality, 0) + n
    return total, chars, by


def _details(by: Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"modality": m, "tokenCount": n} for m, n in sorted(by.items()) if n]


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
        total, _, by = count(parts_of(contents, where))
        return Response(200, {"totalTokens": total, "promptTokensDetails": _details(by)})

    def vertex(self, req: Request) -> Response:
        name = req.params["model"]
        if name not in (*vertex_wire.TUNABLE_BASE_MODELS, *vertex_wire.OTHER_BASE_MODELS):
            raise not_found(f"Publisher Model `publishers/google/models/{name}` not found.")
        body = proto_json(req.json())
        reject_unknown(body, VERTEX_FIELDS, "CountTokensRequest")
        parts = list(parts_of(body.get("contents", []), "contents"))
        system = body.get("systemInstruction")
        if system is not None:
            parts += parts_of([system], "system_instruction")
        total, chars, by = count(parts)
        return Response(
            200,
            {
                "totalTokens": total,
                "totalBillableCharacters": chars,
                "promptTokensDetails": _details(by),
            },
        )
