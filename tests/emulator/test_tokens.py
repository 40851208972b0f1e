"""``countTokens`` in both dialects: raw REST, and the providers through google-genai."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from google.oauth2.credentials import Credentials

from gitops_tune.emulator.server import RunningEmulator
from gitops_tune.providers.base import ProviderError
from gitops_tune.providers.gemini import GeminiProvider
from gitops_tune.providers.vertex import VertexProvider
from tests.emulator.emu_helpers import API_KEY, TUNABLE, Api, assert_error

VERTEX = "/v1beta1/projects/p/locations/us-central1/publishers/google/models"
BEARER = {"Authorization": "Bearer t", "Content-Type": "application/json"}
TEXTS = ["abc", "abcd", "abcde", "x" * 41]  # 1 + 1 + 2 + 11 tokens, rounded up per part


def contents(*texts: str) -> list[dict[str, object]]:
    return [{"role": "user", "parts": [{"text": t} for t in texts]}]


def test_gemini_counts_four_characters_a_token_per_part(api: Api) -> None:
    r = api.call("POST", f"/v1beta/{TUNABLE}:countTokens", {"contents": contents(*TEXTS)})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "totalTokens": 15,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 15}],
    }
    nested = {"generateContentRequest": {"model": TUNABLE, "contents": contents("abcdefgh")}}
    r = api.call("POST", f"/v1beta/{TUNABLE}:countTokens", nested)
    assert r.json()["totalTokens"] == 2


def test_gemini_refuses_unknown_models_fields_and_shapes(api: Api) -> None:
    r = api.call("POST", "/v1beta/models/no-such:countTokens", {"contents": contents("a")})
    assert_error(r, 404, "NOT_FOUND")
    r = api.call("POST", f"/v1beta/{TUNABLE}:countTokens", {"contents": [], "texts": ["a"]})
    assert "Unknown name" in assert_error(r, 400, "INVALID_ARGUMENT")
    r = api.call("POST", f"/v1beta/{TUNABLE}:countTokens", {"contents": [{"parts": "a"}]})
    assert "contents[0].parts" in assert_error(r, 400, "INVALID_ARGUMENT")
    r = api.call("POST", f"/v1beta/{TUNABLE}:countTokens", {"contents": []}, key=False)
    assert r.status_code in (401, 403)


def test_vertex_counts_contents_and_the_system_instruction(api: Api) -> None:
    body = {"contents": contents(*TEXTS), "systemInstruction": {"parts": [{"text": "abcdefg"}]}}
    r = api.raw("POST", f"{VERTEX}/gemini-2.5-flash:countTokens", _json(body), BEARER)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "totalTokens": 17,
        "totalBillableCharacters": 3 + 4 + 5 + 41 + 7,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 17}],
    }
    r = api.raw("POST", f"{VERTEX}/no-such:countTokens", _json({}), BEARER)
    assert_error(r, 404, "NOT_FOUND")


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


@pytest.fixture
def vertex_provider(emulator: RunningEmulator) -> Iterator[VertexProvider]:
    yield VertexProvider(
        "p",
        "us-central1",
        "gs://unused",
        credentials=Credentials(token="t"),  # type: ignore[no-untyped-call]
        base_url=emulator.url,
        storage_endpoint=emulator.url,
    )


def test_the_providers_count_through_the_sdk(
    emulator: RunningEmulator, vertex_provider: VertexProvider
) -> None:
    gemini = GeminiProvider(api_key=API_KEY, base_url=emulator.url)
    assert gemini.count_tokens(TUNABLE, contents(*TEXTS), None) == 15
    assert gemini.count_tokens(TUNABLE, [], None) == 0  # nothing is sent
    assert vertex_provider.count_tokens("gemini-2.5-flash", contents(*TEXTS), None) == 15
    with pytest.raises(ProviderError) as info:
        vertex_provider.count_tokens("no-such", contents(*TEXTS), None)
    assert info.value.status == 404
    stats = emulator.emulator.stats.snapshot()
    assert stats["POST /v1beta/models/{id}:countTokens"] == 1
    assert stats[f"POST /v1beta1{_LOCATION}/publishers/google/models/{{model}}:countTokens"] == 2


_LOCATION = "/projects/{project}/locations/{location}"


def _file(mime: str, uri: str = "gs://b/o") -> dict[str, object]:
    return {"fileData": {"mimeType": mime, "fileUri": uri}}


def test_media_parts_count_by_the_rates_of_understand_and_count_tokens(api: Api) -> None:
    """An image 258 (one tile), a second of video 263, of audio 32; a document as one image:
    the emulator opens no object (docs/emulator.md)."""
    parts = [
        {"text": "abcd"},
        _file("image/png"),
        _file("image/jpeg"),
        _file("video/mp4"),
        _file("audio/mp3"),
        _file("application/pdf"),
    ]
    body = {"contents": [{"role": "user", "parts": parts}]}
    r = api.raw("POST", f"{VERTEX}/gemini-2.5-flash:countTokens", _json(body), BEARER)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "totalTokens": 1 + 2 * 258 + 263 + 32 + 258,
        "totalBillableCharacters": 4,
        "promptTokensDetails": [
            {"modality": "AUDIO", "tokenCount": 32},
            {"modality": "DOCUMENT", "tokenCount": 258},
            {"modality": "IMAGE", "tokenCount": 516},
            {"modality": "TEXT", "tokenCount": 1},
            {"modality": "VIDEO", "tokenCount": 263},
        ],
    }
    r = api.call("POST", f"/v1beta/{TUNABLE}:countTokens", body)
    assert r.json()["totalTokens"] == 1 + 2 * 258 + 263 + 32 + 258
    bad = {"contents": [{"role": "user", "parts": [{"fileData": {"mimeType": "image/png"}}]}]}
    r = api.raw("POST", f"{VERTEX}/gemini-2.5-flash:countTokens", _json(bad), BEARER)
    assert "contents[0].parts[0].file_data" in assert_error(r, 400, "INVALID_ARGUMENT")


def test_the_vertex_provider_sends_media_parts_and_the_media_resolution(
    emulator: RunningEmulator, vertex_provider: VertexProvider
) -> None:
    turns: list[dict[str, object]] = [
        {"role": "user", "parts": [{"text": "abcd"}, _file("image/png", "gs://b/1.png")]},
        {"role": "model", "parts": [{"text": "abcdefgh"}]},
    ]
    counted = vertex_provider.count_tokens("gemini-2.5-flash", turns, "MEDIA_RESOLUTION_LOW")
    assert counted == 1 + 258 + 2
