"""The real, unmodified google-genai client against the emulator: every call our provider makes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from gitops_tune.emulator.server import RunningEmulator
from gitops_tune.providers.sdk_genai import raw_request
from tests.emulator.emu_helpers import API_KEY, TUNABLE, model_body


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[genai.Client]:
    c = genai.Client(
        api_key=API_KEY, http_options=types.HttpOptions(base_url=emulator.url, api_version="v1beta")
    )
    yield c
    c.close()


def request(client: genai.Client, method: str, path: str, body: dict[str, Any]) -> Any:
    """The SDK's own HTTP layer, as the provider uses it for create/list/get/delete."""
    return raw_request(client, method, path, body)


def create(client: genai.Client, model_id: str, **overrides: Any) -> dict[str, Any]:
    op: dict[str, Any] = request(
        client, "post", f"tunedModels?tunedModelId={model_id}", model_body(**overrides)
    )
    return op


def test_create_list_get_delete_through_the_sdk_http_layer(client: genai.Client) -> None:
    op = create(client, "sdk-one")
    assert op["metadata"]["tunedModel"] == "tunedModels/sdk-one"
    listed = request(client, "get", "tunedModels?pageSize=5", {})
    assert [m["name"] for m in listed["tunedModels"]] == ["tunedModels/sdk-one"]
    model = request(client, "get", "tunedModels/sdk-one", {})
    assert model["state"] == "CREATING"
    assert request(client, "get", op["name"], {})["name"] == op["name"]
    assert request(client, "delete", "tunedModels/sdk-one", {}) == {}
    assert request(client, "get", "tunedModels?pageSize=5", {}) == {}


def test_sdk_raises_api_errors_from_the_envelope(client: genai.Client) -> None:
    create(client, "dup")
    with pytest.raises(errors.ClientError) as info:
        create(client, "dup")
    assert info.value.code == 409 and info.value.status == "ALREADY_EXISTS"
    with pytest.raises(errors.ClientError) as info:
        request(client, "post", "tunedModels", {"baseModel": TUNABLE})
    assert info.value.code == 400 and info.value.status == "INVALID_ARGUMENT"
    with pytest.raises(errors.ClientError) as info:
        request(client, "get", "tunedModels/missing", {})
    assert info.value.code == 404


def test_models_list_tuned(client: genai.Client) -> None:
    for i in range(3):
        create(client, f"listed-{i}")
    names = [m.name for m in client.models.list(config={"query_base": False, "page_size": 2})]
    assert names == ["tunedModels/listed-0", "tunedModels/listed-1", "tunedModels/listed-2"]


def test_models_list_and_get_base(client: genai.Client) -> None:
    names = [m.name for m in client.models.list(config={"query_base": True})]
    assert TUNABLE in names
    model = client.models.get(model=TUNABLE)
    assert model.name == TUNABLE
    assert "createTunedModel" in (model.supported_actions or [])
    with pytest.raises(errors.ClientError) as info:
        client.models.get(model="models/does-not-exist")
    assert info.value.code == 404


def test_models_get_tuned(client: genai.Client) -> None:
    create(client, "got")
    model = client.models.get(model="tunedModels/got")
    assert model.name == "tunedModels/got"
    assert model.display_name == "next number"


def test_models_update(client: genai.Client) -> None:
    create(client, "upd")
    updated = client.models.update(
        model="tunedModels/upd", config={"display_name": "new name", "description": "new text"}
    )
    assert updated.display_name == "new name"
    raw = request(client, "get", "tunedModels/upd", {})
    assert raw["displayName"] == "new name" and raw["description"] == "new text"
    assert raw["baseModel"] == TUNABLE  # untouched


def test_models_delete(client: genai.Client) -> None:
    create(client, "del")
    client.models.delete(model="tunedModels/del")
    with pytest.raises(errors.ClientError) as info:
        client.models.delete(model="tunedModels/del")
    assert info.value.code == 404


def test_tunings_get(client: genai.Client) -> None:
    create(client, "tun")
    job = client.tunings.get(name="tunedModels/tun")
    assert job.name == "tunedModels/tun"
    assert job.state == types.JobState.JOB_STATE_RUNNING
    assert job.base_model == TUNABLE
    time.sleep(1.05)
    assert client.tunings.get(name="tunedModels/tun").state == types.JobState.JOB_STATE_SUCCEEDED


@pytest.mark.filterwarnings("ignore:The SDK.s tuning implementation is experimental")
def test_sdk_tunings_tune_is_rejected_because_it_sends_no_examples(client: genai.Client) -> None:
    """google-genai's Gemini-API tune path drops the examples: a strict emulator refuses it."""
    with pytest.raises(errors.ClientError) as info:
        client.tunings.tune(
            base_model=TUNABLE,
            training_dataset=types.TuningDataset(
                examples=[types.TuningExample(text_input="1", output="2")]
            ),
            config=types.CreateTuningJobConfig(tuned_model_display_name="x", epoch_count=1),
        )
    assert info.value.code == 400


def test_base_url_from_the_environment(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.url)
    c = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(api_version="v1beta"))
    try:
        assert client_names(c) == []
        assert c.models.get(model=TUNABLE).name == TUNABLE
    finally:
        c.close()


def client_names(c: genai.Client) -> list[str | None]:
    return [m.name for m in c.models.list(config={"query_base": False})]
