"""The v1beta REST surface over raw HTTP: training, operations, cancel, generateContent, base
models, auth and routing."""

from __future__ import annotations

import time
from typing import Any

from gitops_tune.emulator.server import RunningEmulator
from tests.emulator.emu_helpers import TUNABLE, Api, assert_error


def wait_for_state(api: Api, model_id: str, state: str, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        model = api.get(model_id)
        if model["state"] == state or time.monotonic() > deadline:
            assert model["state"] == state
            return model
        time.sleep(0.05)


# -- training, operations and cancel ----------------------------------------------------------


def test_state_progresses_with_snapshots(api: Api) -> None:
    op_name = api.create("t").json()["name"]
    early = api.get("t")
    assert early["state"] == "CREATING"
    time.sleep(0.55)
    middle = api.get("t")
    assert middle["state"] == "CREATING"
    assert 1 <= len(middle["tuningTask"]["snapshots"]) < 5
    done = wait_for_state(api, "t", "ACTIVE")
    snaps = done["tuningTask"]["snapshots"]
    # 5 examples x 2 epochs / batch size 2: ceil(10 / 2) = 5 steps; step 3 holds the last
    # example of epoch 1 and the first of epoch 2
    assert [s["step"] for s in snaps] == [1, 2, 3, 4, 5]
    assert [s["epoch"] for s in snaps] == [1, 1, 2, 2, 2]
    assert snaps[0]["meanLoss"] > snaps[-1]["meanLoss"]
    assert all(s["computeTime"].endswith("Z") for s in snaps)
    assert done["tuningTask"]["completeTime"] == snaps[-1]["computeTime"]
    op = api.call("GET", f"/v1beta/{op_name}").json()
    assert op["done"] is True
    assert op["metadata"]["completedSteps"] == 5 and op["metadata"]["completedPercent"] == 100
    assert op["response"]["name"] == "tunedModels/t"
    assert op["response"]["state"] == "ACTIVE"


def test_emulator_fail_in_display_name_fails_halfway(api: Api) -> None:
    op_name = api.create("f", displayName="doomed EMULATOR_FAIL").json()["name"]
    model = wait_for_state(api, "f", "FAILED")
    assert len(model["tuningTask"]["snapshots"]) == 2  # half of 5
    op = api.call("GET", f"/v1beta/{op_name}").json()
    assert op["done"] is True and op["error"]["code"] == 13
    assert "EMULATOR_FAIL" in op["error"]["message"]


def test_cancel_stops_training_and_leaves_a_failed_model(api: Api) -> None:
    op_name = api.create("c").json()["name"]
    r = api.call("POST", f"/v1/{op_name}:cancel")
    assert r.status_code == 200 and r.json() == {}
    model = api.get("c")
    assert model["state"] == "FAILED"
    assert "completeTime" in model["tuningTask"]
    op = api.call("GET", f"/v1beta/{op_name}").json()
    assert op["done"] is True and op["error"]["code"] == 1
    time.sleep(1.05)
    assert api.get("c")["state"] == "FAILED"  # stays stopped past the end of training


def test_cancel_of_a_finished_operation_changes_nothing(api: Api) -> None:
    op_name = api.create("c").json()["name"]
    wait_for_state(api, "c", "ACTIVE")
    assert api.call("POST", f"/v1/{op_name}:cancel").status_code == 200
    assert api.get("c")["state"] == "ACTIVE"


def test_unknown_operations_are_404(api: Api) -> None:
    api.create("o")
    assert_error(api.call("GET", "/v1beta/tunedModels/o/operations/nope"), 404, "NOT_FOUND")
    r = api.call("POST", "/v1/tunedModels/nope/operations/x:cancel")
    assert_error(r, 404, "NOT_FOUND")


def test_v1beta_has_no_cancel_for_tuning_operations(api: Api) -> None:
    """Google binds tunedModels/*/operations/*:cancel under v1 only."""
    op_name = api.create("nc").json()["name"]
    assert_error(api.call("POST", f"/v1beta/{op_name}:cancel"), 404, "NOT_FOUND")
    assert api.get("nc")["state"] == "CREATING"


def test_operations_are_served_under_v1_too(api: Api) -> None:
    op_name = api.create("v").json()["name"]
    assert api.call("GET", f"/v1/{op_name}").json()["name"] == op_name
    listed = api.call("GET", "/v1/tunedModels/v/operations").json()
    assert [o["name"] for o in listed["operations"]] == [op_name]
    # tuned-model CRUD is v1beta only, as in the public reference
    assert_error(api.call("GET", "/v1/tunedModels/v"), 404, "NOT_FOUND")


# -- generateContent --------------------------------------------------------------------------


def generate(api: Api, model_id: str, text: str) -> Any:
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    return api.call("POST", f"/v1beta/tunedModels/{model_id}:generateContent", body)


def test_generate_content_answers_from_the_examples(api: Api) -> None:
    api.create("g")
    assert_error(generate(api, "g", "1"), 400, "FAILED_PRECONDITION")
    wait_for_state(api, "g", "ACTIVE")
    r = generate(api, "g", "twenty two")
    assert r.status_code == 200, r.text
    assert r.json()["candidates"][0]["content"]["parts"][0]["text"] == "twenty three"
    nearest = generate(api, "g", "ninety-nine")
    assert nearest.json()["candidates"][0]["content"]["parts"][0]["text"] == "one hundred"
    assert_error(generate(api, "nope", "1"), 404, "NOT_FOUND")


# -- base models, auth, routing -----------------------------------------------------------------


def test_base_models(api: Api) -> None:
    models = api.call("GET", "/v1beta/models").json()["models"]
    by_name = {m["name"]: m for m in models}
    assert "createTunedModel" in by_name[TUNABLE]["supportedGenerationMethods"]
    assert any("createTunedModel" not in m["supportedGenerationMethods"] for m in models)
    one = api.call("GET", "/v1beta/models/gemini-1.5-flash-001-tuning").json()
    assert one == by_name[TUNABLE]
    assert api.call("GET", "/v1/models").json()["models"] == models
    assert_error(api.call("GET", "/v1beta/models/nope"), 404, "NOT_FOUND")
    page = api.call("GET", "/v1beta/models", params={"pageSize": 1}).json()
    assert len(page["models"]) == 1 and page["nextPageToken"]


def test_extra_base_models_are_tunable() -> None:
    from gitops_tune.emulator.server import EmulatorConfig, start

    with start(EmulatorConfig(port=0, base_models=("my-base",))) as running:
        api = Api(running.url)
        model = api.call("GET", "/v1beta/models/my-base").json()
        assert "createTunedModel" in model["supportedGenerationMethods"]
        assert api.create("x", baseModel="models/my-base").status_code == 200
        api.close()


def test_an_api_key_is_required(api: Api) -> None:
    r = api.call("GET", "/v1beta/tunedModels", key=False)
    assert_error(r, 403, "PERMISSION_DENIED")
    assert api.raw("GET", "/v1beta/tunedModels?key=k").status_code == 200


def test_unknown_routes_are_404_in_the_envelope(api: Api) -> None:
    assert_error(api.call("GET", "/v1beta/nothing"), 404, "NOT_FOUND")
    assert_error(api.call("PUT", "/v1beta/tunedModels/x"), 404, "NOT_FOUND")


def test_reset_clears_models(api: Api, emulator: RunningEmulator) -> None:
    api.create("r")
    assert api.call("POST", "/_emulator/reset", key=False).status_code == 200
    assert api.call("GET", "/v1beta/tunedModels").json() == {}
    assert emulator.store.get("r") is None
