"""The Vertex AI dialect reads request bodies as a proto3 JSON parser does: field names in
lowerCamelCase or the proto's snake_case (the same field under both is refused), int64 as a
string or a number, enums by name or number; unknown fields and out-of-range values are still
400 INVALID_ARGUMENT."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.emulator.emu_helpers import Api, Reply, assert_error

LOC = "/v1beta1/projects/p/locations/us-central1"
BEARER = {"Authorization": "Bearer t", "Content-Type": "application/json"}
DATA = "gs://data/d.jsonl"
LINE = {
    "contents": [
        {"role": "user", "parts": [{"text": "abcdefgh"}]},
        {"role": "model", "parts": [{"text": "ijkl"}]},
    ]
}


@pytest.fixture
def vertex(api: Api) -> Api:
    """The raw client, with a bucket holding one training example."""
    r = api.raw("POST", "/storage/v1/b?project=p", json.dumps({"name": "data"}).encode(), BEARER)
    assert r.status_code == 200, r.text
    upload = "/upload/storage/v1/b/data/o?uploadType=media&name=d.jsonl"
    r = api.raw("POST", upload, (json.dumps(LINE) + "\n").encode(), BEARER)
    assert r.status_code == 200, r.text
    return api


def send(api: Api, method: str, path: str, body: Any) -> Reply:
    return api.raw(method, f"{LOC}/{path}", json.dumps(body).encode(), BEARER)


def snake_job(**hyper: Any) -> dict[str, Any]:
    return {
        "base_model": "gemini-2.5-flash",
        "tuned_model_display_name": "snake",
        "labels": {"team_name": "a"},  # map keys are data: they stay as sent
        "supervised_tuning_spec": {"training_dataset_uri": DATA, "hyper_parameters": hyper},
    }


def test_create_takes_snake_case_int64_strings_and_enum_numbers(vertex: Api) -> None:
    r = send(vertex, "POST", "tuningJobs", snake_job(epoch_count="3", adapter_size=6))
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["tunedModelDisplayName"] == "snake" and job["labels"] == {"team_name": "a"}
    spec = job["supervisedTuningSpec"]
    assert spec["trainingDatasetUri"] == DATA
    assert spec["hyperParameters"]["epochCount"] == "3"
    assert spec["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_TWO"
    body = snake_job(epochCount=2, learningRateMultiplier="0.5", adapterSize="ADAPTER_SIZE_ONE")
    hyper = send(vertex, "POST", "tuningJobs", body).json()["supervisedTuningSpec"]
    assert hyper["hyperParameters"] == {
        "epochCount": "2",
        "learningRateMultiplier": 0.5,
        "adapterSize": "ADAPTER_SIZE_ONE",
    }


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"baseModel": "gemini-2.5-flash"}, 'Duplicate field "baseModel"'),
        ({"tunedModelDisplayName": "x"}, 'Duplicate field "tunedModelDisplayName"'),
        ({"tuning_model": "x"}, 'Unknown name "tuningModel"'),
    ],
)
def test_both_spellings_and_unknown_fields_are_refused(
    vertex: Api, change: dict[str, Any], words: str
) -> None:
    r = send(vertex, "POST", "tuningJobs", snake_job() | change)
    assert words in assert_error(r, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("hyper", "words"),
    [
        ({"epoch_count": "0"}, "epochCount must be a positive integer"),
        ({"epoch_count": "2.5"}, "epochCount must be a positive integer"),
        ({"epoch_count": str(2**63)}, "epochCount must be a positive integer"),
        ({"epoch_count": True}, "epochCount must be a positive integer"),
        ({"learning_rate_multiplier": "-1"}, "learningRateMultiplier must be a positive"),
        ({"adapter_size": 7}, "adapterSize"),
        ({"adapter_size": "ADAPTER_SIZE_UNSPECIFIED"}, "adapterSize"),
        ({"epochs": 2}, 'Unknown name "epochs"'),
    ],
)
def test_out_of_range_values_are_invalid_argument(
    vertex: Api, hyper: dict[str, Any], words: str
) -> None:
    r = send(vertex, "POST", "tuningJobs", snake_job(**hyper))
    assert words in assert_error(r, 400, "INVALID_ARGUMENT")


def _finished(api: Api, name: str) -> dict[str, Any]:
    for _ in range(200):
        job: dict[str, Any] = api.raw("GET", f"/v1beta1/{name}", headers=BEARER).json()
        if job["state"] == "JOB_STATE_SUCCEEDED":
            return job
        time.sleep(0.05)
    raise AssertionError(f"{name} never succeeded")


def test_models_and_endpoints_patch_take_snake_case(vertex: Api) -> None:
    job = _finished(vertex, send(vertex, "POST", "tuningJobs", snake_job()).json()["name"])
    model = job["tunedModel"]["model"].split("@")[0]
    endpoint = job["tunedModel"]["endpoint"]
    body = {"display_name": "renamed", "labels": {"team_name": "b"}}
    r = vertex.raw(
        "PATCH",
        f"/v1beta1/{model}?update_mask=display_name,labels",
        json.dumps(body).encode(),
        BEARER,
    )
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "renamed" and r.json()["labels"] == {"team_name": "b"}
    r = vertex.raw(
        "PATCH",
        f"/v1beta1/{endpoint}?updateMask=description",
        json.dumps({"description": "d", "display_name": "x"}).encode(),  # outside the mask
        BEARER,
    )
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "d" and r.json()["displayName"] != "x"
    both = {"display_name": "a", "displayName": "b"}
    r = vertex.raw(
        "PATCH", f"/v1beta1/{endpoint}?updateMask=displayName", json.dumps(both).encode(), BEARER
    )
    assert 'Duplicate field "displayName"' in assert_error(r, 400, "INVALID_ARGUMENT")
    r = vertex.raw("PATCH", f"/v1beta1/{model}?updateMask=nme", json.dumps({}).encode(), BEARER)
    assert "nme" in assert_error(r, 400, "INVALID_ARGUMENT")
