"""Helpers shared by the emulator tests: a valid create body, a raw HTTP client."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

TUNABLE = "models/gemini-1.5-flash-001-tuning"
API_KEY = "test-key"

EXAMPLES = [
    {"textInput": "1", "output": "2"},
    {"textInput": "3", "output": "4"},
    {"textInput": "twenty two", "output": "twenty three"},
    {"textInput": "ninety nine", "output": "one hundred"},
    {"textInput": "seven", "output": "eight"},
]


def model_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body; ``examples=[...]`` and ``hyperparameters={...}`` go in the task."""
    examples = overrides.pop("examples", EXAMPLES)
    hyper = overrides.pop("hyperparameters", {"epochCount": 2, "batchSize": 2})
    body: dict[str, Any] = {
        "displayName": "next number",
        "description": "counts up",
        "baseModel": TUNABLE,
        "tuningTask": {
            "trainingData": {"examples": {"examples": examples}},
            "hyperparameters": hyper,
        },
    }
    body.update(overrides)
    return body


@dataclass
class Reply:
    """An HTTP answer: status, headers (lower-case names) and the body."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Api:
    """Raw HTTP against the emulator (stdlib only), with the API key unless told otherwise."""

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def raw(
        self, method: str, path: str, content: bytes = b"", headers: dict[str, str] | None = None
    ) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=content or None, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        key: bool = True,
    ) -> Reply:
        headers = {"x-goog-api-key": API_KEY} if key else {}
        content = b""
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if params:
            path = f"{path}?{urlencode(params)}"
        return self.raw(method, path, content, headers)

    def create(self, model_id: str | None = None, **overrides: Any) -> Reply:
        params = {"tunedModelId": model_id} if model_id is not None else None
        return self.call("POST", "/v1beta/tunedModels", model_body(**overrides), params)

    def get(self, model_id: str) -> dict[str, Any]:
        r = self.call("GET", f"/v1beta/tunedModels/{model_id}")
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def close(self) -> None:
        pass


def assert_error(r: Reply, code: int, status: str) -> str:
    """The answer is Google's envelope with this code and status; returns the message."""
    assert r.status_code == code, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    message: str = error["message"]
    return message
