"""The v1beta REST surface over raw HTTP: create, list, patch and delete (shapes, validation,
pagination)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.emulator.emu_helpers import EXAMPLES, TUNABLE, Api, assert_error, model_body

OP_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.CreateTunedModelMetadata"


# -- create ---------------------------------------------------------------------------------


def test_create_returns_an_operation(api: Api) -> None:
    r = api.create("next-number")
    assert r.status_code == 200, r.text
    op = r.json()
    assert op["name"].startswith("tunedModels/next-number/operations/")
    assert op["metadata"]["@type"] == OP_TYPE
    assert op["metadata"]["tunedModel"] == "tunedModels/next-number"
    # 5 examples, batch 2 -> 3 steps per epoch, 2 epochs
    assert op["metadata"]["totalSteps"] == 5  # ceil(5 examples x 2 epochs / batch size 2)
    assert "done" not in op


def test_get_returns_the_tuned_model_without_training_data(api: Api) -> None:
    api.create("next-number", hyperparameters={})
    model = api.get("next-number")
    assert model["name"] == "tunedModels/next-number"
    assert model["displayName"] == "next number"
    assert model["description"] == "counts up"
    assert model["state"] == "CREATING"
    assert model["baseModel"] == TUNABLE
    assert model["createTime"].endswith("Z") and model["updateTime"].endswith("Z")
    task = model["tuningTask"]
    assert task["startTime"] == model["createTime"]
    assert "completeTime" not in task
    assert "trainingData" not in task
    assert "1" not in str(task.get("snapshots", [])) or task.get("snapshots")
    # the defaults are filled in, as the real API reports them
    assert task["hyperparameters"] == {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}


def test_learning_rate_multiplier_is_kept(api: Api) -> None:
    api.create("m", hyperparameters={"learningRateMultiplier": 0.5, "epochCount": 1})
    hyper = api.get("m")["tuningTask"]["hyperparameters"]
    assert hyper == {"epochCount": 1, "batchSize": 4, "learningRateMultiplier": 0.5}


def test_a_generated_id_comes_from_the_display_name(api: Api) -> None:
    r = api.create(None, displayName="Sentence Translator")
    assert r.status_code == 200, r.text
    model_name = r.json()["metadata"]["tunedModel"]
    assert model_name.startswith("tunedModels/sentence-translator-")
    assert api.get(model_name.split("/")[1])["displayName"] == "Sentence Translator"


def test_a_generated_id_without_display_name(api: Api) -> None:
    body = model_body()
    del body["displayName"]
    r = api.call("POST", "/v1beta/tunedModels", body)
    assert r.status_code == 200, r.text
    model_id = r.json()["metadata"]["tunedModel"].split("/")[1]
    assert model_id[0].isalpha() and len(model_id) == 11
    assert "displayName" not in api.get(model_id)


def test_a_repeated_id_is_409(api: Api) -> None:
    assert api.create("twice").status_code == 200
    message = assert_error(api.create("twice"), 409, "ALREADY_EXISTS")
    assert "tunedModels/twice" in message


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("no base model", {"baseModel": None}),
    ("unknown base model", {"baseModel": "models/nope"}),
    ("base model without prefix", {"baseModel": "gemini-1.5-flash-001-tuning"}),
    ("base model that cannot be tuned", {"baseModel": "models/gemini-1.5-flash-001"}),
    ("display name too long", {"displayName": "x" * 41}),
    ("display name not a string", {"displayName": 7}),
    ("no examples", {"examples": []}),
    ("missing textInput", {"examples": [{"output": "2"}]}),
    ("textInput not a string", {"examples": [{"textInput": 1, "output": "2"}]}),
    ("missing output", {"examples": [{"textInput": "1"}]}),
    ("empty output", {"examples": [{"textInput": "1", "output": ""}]}),
    ("example not an object", {"examples": ["1 -> 2"]}),
    ("unknown example field", {"examples": [{"textInput": "1", "output": "2", "x": 1}]}),
    (
        "both learning rates",
        {"hyperparameters": {"learningRate": 0.1, "learningRateMultiplier": 1}},
    ),
    ("epochCount not a number", {"hyperparameters": {"epochCount": "five"}}),
    ("epochCount zero", {"hyperparameters": {"epochCount": 0}}),
    ("epochCount a bool", {"hyperparameters": {"epochCount": True}}),
    ("batchSize fractional", {"hyperparameters": {"batchSize": 1.5}}),
    ("learningRate negative", {"hyperparameters": {"learningRate": -0.1}}),
    ("learningRateMultiplier not a number", {"hyperparameters": {"learningRateMultiplier": "x"}}),
    ("temperature above 1 (documented as [0, 1])", {"temperature": 1.5}),
    ("the same field twice", {"display_name": "a", "displayName": "b"}),
    ("unknown hyperparameter", {"hyperparameters": {"epochs": 5}}),
    ("unknown top-level field", {"trainingData": []}),
    ("tunedModelSource", {"tunedModelSource": {"tunedModel": "tunedModels/x"}}),
    ("temperature out of range", {"temperature": 3}),
]


@pytest.mark.parametrize(("case", "overrides"), BAD_BODIES, ids=[c for c, _ in BAD_BODIES])
def test_invalid_create_bodies_are_400(api: Api, case: str, overrides: dict[str, Any]) -> None:
    body = model_body(**overrides)
    if body.get("baseModel") is None:
        del body["baseModel"]
    r = api.call("POST", "/v1beta/tunedModels", body, {"tunedModelId": "bad"})
    assert_error(r, 400, "INVALID_ARGUMENT")
    assert_error(api.call("GET", "/v1beta/tunedModels/bad"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "task",
    [
        None,
        {},
        {"trainingData": {}},
        {"trainingData": {"examples": {}}},
        {"trainingData": {"examples": {"examples": "nope"}}},
        {"trainingData": {"examples": {"examples": []}}},
    ],
    ids=["no task", "empty task", "no examples", "no inner list", "not a list", "empty list"],
)
def test_missing_training_data_is_400(api: Api, task: dict[str, Any] | None) -> None:
    """What google-genai's Gemini-API tunings.tune path sends: no examples at all."""
    body = model_body()
    body["tuningTask"] = task
    assert_error(api.call("POST", "/v1beta/tunedModels", body), 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    "bad_id", ["Upper", "1starts-with-digit", "ends-with-", "has_underscore", "a" * 41, ""]
)
def test_invalid_ids_are_400(api: Api, bad_id: str) -> None:
    r = api.call("POST", "/v1beta/tunedModels", model_body(), {"tunedModelId": bad_id})
    assert_error(r, 400, "INVALID_ARGUMENT")


def test_longest_valid_id_is_accepted(api: Api) -> None:
    assert api.create("a" * 40).status_code == 200


def test_invalid_json_is_400(api: Api) -> None:
    r = api.raw("POST", "/v1beta/tunedModels", b"{not json", {"x-goog-api-key": "k"})
    assert_error(r, 400, "INVALID_ARGUMENT")


# -- list -------------------------------------------------------------------------------------


def test_pagination_walks_every_model_once(api: Api) -> None:
    ids = [f"model-{i:02d}" for i in range(23)]
    for model_id in ids:
        assert api.create(model_id, examples=EXAMPLES[:1]).status_code == 200
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"pageSize": 10}
        if token:
            params["pageToken"] = token
        page = api.call("GET", "/v1beta/tunedModels", params=params).json()
        pages += 1
        seen += [m["name"].split("/")[1] for m in page["tunedModels"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert pages == 3
    assert seen == sorted(ids)


def test_page_size_defaults_to_10(api: Api) -> None:
    for i in range(12):
        api.create(f"m{i:02d}", examples=EXAMPLES[:1])
    page = api.call("GET", "/v1beta/tunedModels").json()
    assert len(page["tunedModels"]) == 10 and page["nextPageToken"]
    big = api.call("GET", "/v1beta/tunedModels", params={"pageSize": 5000}).json()
    assert len(big["tunedModels"]) == 12 and "nextPageToken" not in big


def test_empty_list(api: Api) -> None:
    r = api.call("GET", "/v1beta/tunedModels")
    assert r.status_code == 200 and r.json() == {}


def test_bad_page_arguments_are_400(api: Api) -> None:
    for params in ({"pageSize": -1}, {"pageSize": "ten"}, {"pageToken": "garbage!"}):
        r = api.call("GET", "/v1beta/tunedModels", params=params)
        assert_error(r, 400, "INVALID_ARGUMENT")


def test_filter_is_case_insensitive_over_display_name_and_description(api: Api) -> None:
    api.create("a", displayName="Sentence Translator", description="french")
    api.create("b", displayName="Number Counter", description="Translates digits")
    api.create("c", displayName="Other", description="nothing")

    def names(filter_: str) -> list[str]:
        page = api.call("GET", "/v1beta/tunedModels", params={"filter": filter_}).json()
        return [m["name"] for m in page.get("tunedModels", [])]

    assert names("TRANSLAT") == ["tunedModels/a", "tunedModels/b"]
    assert names("french") == ["tunedModels/a"]
    assert names("translat digits") == ["tunedModels/b"]
    assert names("owner:me") == ["tunedModels/a", "tunedModels/b", "tunedModels/c"]
    assert names("readers:everyone") == []
    assert names("absent") == []


def test_a_page_token_is_tied_to_its_filter(api: Api) -> None:
    for i in range(3):
        api.create(f"x{i}", displayName="same words", examples=EXAMPLES[:1])
    first = api.call("GET", "/v1beta/tunedModels", params={"pageSize": 1, "filter": "same"})
    token = first.json()["nextPageToken"]
    r = api.call("GET", "/v1beta/tunedModels", params={"pageToken": token, "filter": "other"})
    assert_error(r, 400, "INVALID_ARGUMENT")
    params = {"pageToken": token, "filter": "same", "pageSize": 1}
    ok = api.call("GET", "/v1beta/tunedModels", params=params)
    assert [m["name"] for m in ok.json()["tunedModels"]] == ["tunedModels/x1"]


# -- patch and delete -------------------------------------------------------------------------


def test_patch_with_a_mask_updates_only_the_named_fields(api: Api) -> None:
    api.create("p")
    body = {"displayName": "renamed", "description": "ignored"}
    r = api.call("PATCH", "/v1beta/tunedModels/p", body, {"updateMask": "displayName"})
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "renamed"
    assert r.json()["description"] == "counts up"
    assert api.get("p")["displayName"] == "renamed"


def test_patch_without_a_mask_updates_the_fields_present(api: Api) -> None:
    api.create("p")
    before = api.get("p")
    time.sleep(0.01)
    r = api.call("PATCH", "/v1beta/tunedModels/p", {"description": "new words"})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["description"] == "new words" and after["displayName"] == "next number"
    assert after["updateTime"] > before["updateTime"]


def test_patch_mask_clears_a_field_absent_from_the_body(api: Api) -> None:
    api.create("p")
    r = api.call("PATCH", "/v1beta/tunedModels/p", {}, {"updateMask": "description"})
    assert r.status_code == 200 and "description" not in r.json()


@pytest.mark.parametrize(
    ("body", "mask"),
    [
        ({"baseModel": "models/gemini-2.0-flash"}, None),
        ({"tuningTask": {"hyperparameters": {"epochCount": 9}}}, None),
        ({"baseModel": "models/gemini-2.0-flash"}, "baseModel"),
        ({}, "tuningTask.hyperparameters"),
        ({}, "state"),
        ({}, "nonsense"),
        ({"displayName": "y" * 41}, "displayName"),
        ({"unknownField": 1}, None),
    ],
)
def test_patch_rejects_immutable_and_unknown_fields(
    api: Api, body: dict[str, Any], mask: str | None
) -> None:
    api.create("p")
    params = {"updateMask": mask} if mask else None
    assert_error(api.call("PATCH", "/v1beta/tunedModels/p", body, params), 400, "INVALID_ARGUMENT")
    assert api.get("p")["displayName"] == "next number"


def test_patch_accepts_the_resource_sent_back(api: Api) -> None:
    api.create("p")
    model = api.get("p")
    sent = {k: model[k] for k in ("name", "baseModel", "state", "createTime")}
    r = api.call("PATCH", "/v1beta/tunedModels/p", {**sent, "displayName": "round trip"})
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "round trip"


def test_patch_and_delete_of_a_missing_model_are_404(api: Api) -> None:
    assert_error(
        api.call("PATCH", "/v1beta/tunedModels/nope", {"description": "x"}), 404, "NOT_FOUND"
    )
    assert_error(api.call("DELETE", "/v1beta/tunedModels/nope"), 404, "NOT_FOUND")


def test_delete_of_a_training_model_removes_it(api: Api) -> None:
    api.create("d")
    r = api.call("DELETE", "/v1beta/tunedModels/d")
    assert r.status_code == 200 and r.json() == {}
    assert_error(api.call("GET", "/v1beta/tunedModels/d"), 404, "NOT_FOUND")
    assert api.create("d").status_code == 200  # the ID is free again


def test_proto3_json_input_is_accepted(api: Api) -> None:
    """Google's parser takes snake_case field names and numbers sent as strings (proto3 JSON);
    so does the emulator, while it still refuses unknown fields."""
    body = model_body(
        hyperparameters={"epoch_count": "2", "batch_size": 2, "learning_rate": "0.001"}
    )
    body["display_name"] = body.pop("displayName")
    body["base_model"] = body.pop("baseModel")
    body["tuning_task"] = body.pop("tuningTask")
    body["temperature"] = "0.5"
    r = api.call("POST", "/v1beta/tunedModels", body, {"tunedModelId": "snake"})
    assert r.status_code == 200, r.text
    model = api.get("snake")
    assert model["displayName"] == "next number" and model["temperature"] == 0.5
    assert model["tuningTask"]["hyperparameters"] == {
        "epochCount": 2,
        "batchSize": 2,
        "learningRate": 0.001,
    }
    r = api.call(
        "PATCH",
        "/v1beta/tunedModels/snake",
        {"display_name": "renamed"},
        {"updateMask": "display_name"},
    )
    assert r.status_code == 200 and r.json()["displayName"] == "renamed"
    assert_error(
        api.call("POST", "/v1beta/tunedModels", {**body, "bogus_field": 1}), 400, "INVALID_ARGUMENT"
    )
