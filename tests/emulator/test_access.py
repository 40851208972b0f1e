"""Callers and what they may see (`emulator.callers`, `emulator.gemini.access`): Google's
bad-key answer, the 403 for a model owned by another project, ``readerProjectNumbers``; and
the generated ID shape of Google's recorded runs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from gitops_tune.emulator.callers import KeyConfigError, parse_keys
from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from tests.emulator.emu_helpers import API_KEY, Api, Reply, assert_error

OWNER_KEY, OTHER_KEY, READER_KEY = API_KEY, "other-key", "reader-key"


@pytest.fixture
def keyed() -> Iterator[RunningEmulator]:
    keys = (f"{OWNER_KEY}=111", f"{OTHER_KEY}=222", f"{READER_KEY}=333")
    with start(EmulatorConfig(port=0, train_seconds=0.2, api_keys=keys)) as running:
        yield running


def as_key(api: Api, key: str, method: str, path: str, body: object = None) -> Reply:
    import json

    headers = {"x-goog-api-key": key, "Content-Type": "application/json"}
    content = json.dumps(body).encode() if body is not None else b""
    return api.raw(method, path, content, headers)


def test_parse_keys() -> None:
    assert parse_keys(["a=42", "b"]) == {"a": "42", "b": "1002"}
    for bad in ("=1", "a=0", "a=x", "a=-3"):
        with pytest.raises(KeyConfigError, match="KEY=PROJECT_NUMBER"):
            parse_keys([bad])


def test_an_unknown_key_gets_googles_bad_key_answer(keyed: RunningEmulator) -> None:
    api = Api(keyed.url)
    r = as_key(api, "not-a-key", "GET", "/v1beta/tunedModels")
    assert assert_error(r, 400, "INVALID_ARGUMENT") == (
        "API key not valid. Please pass a valid API key."
    )
    info = r.json()["error"]["details"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info["reason"] == "API_KEY_INVALID"
    assert info["metadata"] == {"service": "generativelanguage.googleapis.com"}
    assert as_key(api, OWNER_KEY, "GET", "/v1beta/tunedModels").status_code == 200
    assert_error(api.call("GET", "/v1beta/tunedModels", key=False), 403, "PERMISSION_DENIED")


def test_without_configured_keys_any_key_is_the_same_project(api: Api) -> None:
    assert api.create("shared").status_code == 200
    assert as_key(api, "someone-else", "GET", "/v1beta/tunedModels/shared").status_code == 200


def test_a_model_of_another_project_is_forbidden(keyed: RunningEmulator) -> None:
    api = Api(keyed.url)
    assert api.create("mine").status_code == 200
    base = "/v1beta/tunedModels/mine"
    for method, path, body in [
        ("GET", base, None),
        ("PATCH", base, {"description": "x"}),
        ("DELETE", base, None),
        ("POST", f"{base}:generateContent", {"contents": [{"parts": [{"text": "1"}]}]}),
        ("GET", f"{base}/operations", None),
    ]:
        message = assert_error(as_key(api, OTHER_KEY, method, path, body), 403, "PERMISSION_DENIED")
        assert message == "You do not have permission to access tuned model tunedModels/mine"
    listed = as_key(api, OTHER_KEY, "GET", "/v1beta/tunedModels").json()
    assert listed == {}
    assert [m["name"] for m in api.call("GET", "/v1beta/tunedModels").json()["tunedModels"]] == [
        "tunedModels/mine"
    ]
    assert_error(as_key(api, OTHER_KEY, "GET", "/v1beta/tunedModels/none"), 404, "NOT_FOUND")


def test_reader_projects_may_read_but_not_change(keyed: RunningEmulator) -> None:
    api = Api(keyed.url)
    r = api.create("shared", readerProjectNumbers=["333", 444, "333"])
    assert r.status_code == 200, r.text
    model = api.get("shared")
    assert model["readerProjectNumbers"] == ["333", "444"]  # int64: strings, duplicates gone
    path = "/v1beta/tunedModels/shared"
    assert as_key(api, READER_KEY, "GET", path).status_code == 200
    names = [
        m["name"]
        for m in as_key(api, READER_KEY, "GET", "/v1beta/tunedModels").json()["tunedModels"]
    ]
    assert names == ["tunedModels/shared"]
    owned = as_key(api, READER_KEY, "GET", "/v1beta/tunedModels?filter=owner:me").json()
    assert owned == {}
    assert_error(as_key(api, READER_KEY, "DELETE", path), 403, "PERMISSION_DENIED")
    assert_error(as_key(api, OTHER_KEY, "GET", path), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("bad", [["x"], [0], [-5], "123", [1.5]])
def test_reader_project_numbers_are_checked(api: Api, bad: object) -> None:
    message = assert_error(api.create(readerProjectNumbers=bad), 400, "INVALID_ARGUMENT")
    assert "readerProjectNumbers" in message


def test_generated_ids_have_the_shape_of_googles(api: Api) -> None:
    """Google's recorded REST tutorial run: ``number-generator-model-dzlmi0gswwqb`` and
    operation ``bvl8dymw0fhw``."""
    op = api.create(displayName="number generator model").json()
    assert re.fullmatch(
        r"tunedModels/number-generator-model-[a-z0-9]{12}/operations/[a-z0-9]{12}", op["name"]
    ), op["name"]
    nameless = api.create(displayName="").json()["metadata"]["tunedModel"]
    assert re.fullmatch(r"tunedModels/[a-z][a-z0-9]{10}", nameless), nameless
    long = api.create(displayName="a very long display name for many w").json()
    model_id = long["metadata"]["tunedModel"].removeprefix("tunedModels/")
    assert len(model_id) <= 40 and re.fullmatch(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?", model_id)


def wait_active(api: Api, model_id: str) -> None:
    import time

    deadline = time.monotonic() + 10
    while api.get(model_id)["state"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"systemInstruction": {"parts": [{"text": "be brief"}]}}, "Developer instruction"),
        ({"system_instruction": {"parts": [{"text": "be brief"}]}}, "Developer instruction"),
        ({"generationConfig": {"responseMimeType": "application/json"}}, "Json mode"),
        ({"generationConfig": {"response_schema": {"type": "OBJECT"}}}, "Json mode"),
    ],
)
def test_tuned_models_refuse_system_instructions_and_json_mode(
    keyed: RunningEmulator, extra: dict[str, object], message: str
) -> None:
    api = Api(keyed.url)
    assert api.create("limits").status_code == 200
    wait_active(api, "limits")
    body = {"contents": [{"parts": [{"text": "1"}]}], **extra}
    r = api.call("POST", "/v1beta/tunedModels/limits:generateContent", body)
    assert assert_error(r, 400, "INVALID_ARGUMENT") == (
        f"{message} is not enabled for tunedModels/limits"
    )
    plain = {"contents": [{"parts": [{"text": "1"}]}], "generationConfig": {"temperature": 0}}
    ok = api.call("POST", "/v1beta/tunedModels/limits:generateContent", plain)
    assert ok.status_code == 200, ok.text
