"""The Vertex AI dialect's job behaviour: states in job_state.proto's order, asynchronous
cancellation, long-running operations that finish later, a failed job with a model but no
endpoint, tuningDataStats shaped like recorded real responses, models/endpoints patch, and
refused model deletes."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.emulator.vertex import timeline
from gitops_tune.emulator.vertex.resources import job_json
from gitops_tune.emulator.vertex.wire import KIND_JOB
from tests.harness import request_json

BUCKET = "data"
AUTH = {"Authorization": "Bearer t"}
LOC = "v1beta1/projects/p/locations/us-central1"
LINE = {
    "contents": [
        {"role": "user", "parts": [{"text": "abcdefgh"}]},
        {"role": "model", "parts": [{"text": "ijkl"}]},
    ]
}


def doc(**changes: Any) -> dict[str, Any]:
    """A stored job document: created at 100, queued 2 s, training 10 s."""
    base: dict[str, Any] = {
        "project": "p",
        "location": "l",
        "id": "1",
        "display_name": "m",
        "description": "",
        "labels": {},
        "base_model": "gemini-2.5-flash",
        "training_uri": "gs://b/d.jsonl",
        "validation_uri": None,
        "hyper": {
            "epochCount": 2,
            "learningRateMultiplier": 1.0,
            "adapterSize": "ADAPTER_SIZE_FOUR",
        },
        "create_time": 100.0,
        "queue_seconds": 2.0,
        "train_seconds": 10.0,
        "steps": 10,
        "steps_per_epoch": 5,
        "seed": "7",
        "fail": False,
        "cancel_time": None,
        "cancel_requested": None,
        "model_id": "5",
        "endpoint_id": "6",
        "deployed_model_id": "7",
        "undeployed": False,
        "model_deleted": False,
        "endpoint_deleted": False,
    }
    return base | changes


def states(d: dict[str, Any], times: list[float]) -> list[str]:
    return [timeline.status(d, t).state.removeprefix("JOB_STATE_") for t in times]


def test_a_job_is_queued_then_pending_then_runs_then_succeeds() -> None:
    assert states(doc(), [100.5, 101.5, 105.0, 112.0]) == [
        "QUEUED",
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
    ]
    job = job_json(doc(), 112.0)
    assert job["startTime"] == "1970-01-01T00:01:42.000000Z" and "endTime" in job
    assert job["tunedModel"] == {
        "model": "projects/p/locations/l/models/5@1",
        "endpoint": "projects/p/locations/l/endpoints/6",
    }
    assert "tunedModel" not in job_json(doc(), 105.0) and "startTime" not in job_json(doc(), 100.5)


def test_cancellation_takes_a_while() -> None:
    cancelled = doc(cancel_requested=104.0, cancel_time=106.0)
    assert states(cancelled, [103.0, 105.0, 107.0]) == ["RUNNING", "CANCELLING", "CANCELLED"]
    job = job_json(cancelled, 107.0)
    assert job["error"] == {"code": 1, "message": "CANCELED"} and "tunedModel" not in job
    queued = doc(cancel_requested=100.5, cancel_time=101.0)
    assert states(queued, [100.7, 101.5]) == ["CANCELLING", "CANCELLED"]
    # A cancellation that arrives too late: the job succeeds anyway (job_state.proto).
    late = doc(cancel_requested=111.5, cancel_time=113.0)
    assert states(late, [111.7, 112.5]) == ["CANCELLING", "SUCCEEDED"]


def test_a_failed_job_may_have_a_model_but_no_endpoint_and_jobs_may_expire() -> None:
    job = job_json(doc(no_endpoint=True), 112.0)
    assert job["state"] == "JOB_STATE_FAILED"
    assert job["error"]["code"] == 13 and "Model Registry" in job["error"]["message"]
    assert job["tunedModel"] == {"model": "projects/p/locations/l/models/5@1"}
    assert states(doc(expire=True), [100.5, 103.0]) == ["QUEUED", "EXPIRED"]


def test_tuning_data_stats_are_shaped_like_real_responses() -> None:
    data = (json.dumps(LINE) + "\n") * 3
    stats = timeline.data_stats(data.encode(), epochs=2)["supervisedTuningDataStats"]
    assert set(stats) == {
        "tuningDatasetExampleCount",
        "totalBillableTokenCount",
        "userInputTokenDistribution",
        "userOutputTokenDistribution",
        "userMessagePerExampleDistribution",
    }
    assert stats["tuningDatasetExampleCount"] == "3"
    assert stats["totalBillableTokenCount"] == str((2 + 1) * 3 * 2)  # 4 characters a token
    dist = stats["userInputTokenDistribution"]
    assert dist["sum"] == "6" and dist["mean"] == 2.0
    assert dist["buckets"] == [{"count": 3.0, "left": 2.0, "right": 2.0}]


@pytest.fixture
def vertex() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(port=0, train_seconds=0.5, operation_seconds=0.3)
    with start(config) as running:
        request_json(running.url, "POST", "storage/v1/b?project=p", {"name": BUCKET})
        body = (json.dumps(LINE) + "\n").encode()
        urllib.request.urlopen(
            urllib.request.Request(
                f"{running.url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name=d.jsonl",
                data=body,
                method="POST",
            )
        ).read()
        yield running


def call(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return request_json(url, method, f"{LOC}/{path}", body, AUTH)


def create(url: str, display: str = "m") -> dict[str, Any]:
    job: dict[str, Any] = call(
        url,
        "POST",
        "tuningJobs",
        {
            "baseModel": "gemini-2.5-flash",
            "tunedModelDisplayName": display,
            "labels": {"team": "a"},
            "supervisedTuningSpec": {"trainingDatasetUri": f"gs://{BUCKET}/d.jsonl"},
        },
    )
    return job


def wait_for(url: str, name: str, state: str) -> dict[str, Any]:
    for _ in range(100):
        job: dict[str, Any] = request_json(url, "GET", f"v1beta1/{name}", headers=AUTH)
        if job["state"] == state:
            return job
        time.sleep(0.05)
    raise AssertionError(f"{name} never reached {state}")


def test_deletes_are_operations_that_finish_later_and_models_can_be_patched(
    vertex: RunningEmulator,
) -> None:
    url = vertex.url
    job = create(url)
    assert job["state"] == "JOB_STATE_QUEUED"
    assert job["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_FOUR"
    done = wait_for(url, job["name"], "JOB_STATE_SUCCEEDED")
    model, endpoint = done["tunedModel"]["model"].split("@")[0], done["tunedModel"]["endpoint"]
    listed = call(url, "GET", "models?filter=labels.team=a")["models"]
    assert [m["name"] for m in listed] == [model] and listed[0]["labels"] == {"team": "a"}

    patched = request_json(
        url,
        "PATCH",
        f"v1beta1/{model}?updateMask=displayName,labels",
        {"displayName": "new", "labels": {"team": "b"}},
        AUTH,
    )
    assert patched["displayName"] == "new" and patched["labels"] == {"team": "b"}
    assert call(url, "GET", "models?filter=labels.team=a") == {}

    ep = request_json(url, "GET", f"v1beta1/{endpoint}", headers=AUTH)
    op = request_json(
        url,
        "POST",
        f"v1beta1/{endpoint}:undeployModel",
        {"deployedModelId": ep["deployedModels"][0]["id"]},
        AUTH,
    )
    assert "done" not in op
    time.sleep(0.35)
    later = request_json(url, "GET", f"v1beta1/{op['name']}", headers=AUTH)
    assert later["done"] is True and later["response"]["@type"].endswith("UndeployModelResponse")


def test_refused_model_delete_switch(vertex: RunningEmulator) -> None:
    url = vertex.url
    job = wait_for(url, create(url, "EMULATOR_NO_ENDPOINT m")["name"], "JOB_STATE_FAILED")
    model = job["tunedModel"]["model"].split("@")[0]
    request_json(url, "POST", "_emulator/vertex", {"refuse_model_delete": True})
    with pytest.raises(Exception, match="400"):
        request_json(url, "DELETE", f"v1beta1/{model}", headers=AUTH)
    request_json(url, "POST", "_emulator/vertex", {"refuse_model_delete": False})
    op = request_json(url, "DELETE", f"v1beta1/{model}", headers=AUTH)
    assert op["metadata"]["@type"].endswith("DeleteOperationMetadata")


def test_cancel_is_asynchronous(vertex: RunningEmulator) -> None:
    url = vertex.url
    job = create(url)
    request_json(url, "POST", f"v1beta1/{job['name']}:cancel", {}, AUTH)
    now = request_json(url, "GET", f"v1beta1/{job['name']}", headers=AUTH)
    assert now["state"] == "JOB_STATE_CANCELLING"
    wait_for(url, job["name"], "JOB_STATE_CANCELLED")


def test_a_job_from_a_pre_tuned_model_whose_job_has_not_finished_is_refused(
    vertex: RunningEmulator,
) -> None:
    parent = create(vertex.url, "parent")
    (stored,) = [d for _, d in vertex.emulator.store.docs(KIND_JOB, "p/us-central1/")]
    model = f"projects/p/locations/us-central1/models/{stored['model_id']}"

    def child(checkpoint: str | None = None) -> dict[str, Any]:
        pre = {"tunedModelName": model} | ({"checkpointId": checkpoint} if checkpoint else {})
        body = {
            "preTunedModel": pre,
            "tunedModelDisplayName": "child",
            "supervisedTuningSpec": {"trainingDatasetUri": f"gs://{BUCKET}/d.jsonl"},
        }
        job: dict[str, Any] = call(vertex.url, "POST", "tuningJobs", body)
        return job

    with pytest.raises(urllib.error.HTTPError) as refused:
        child()
    error = json.loads(refused.value.read())["error"]
    assert (refused.value.code, error["status"]) == (400, "FAILED_PRECONDITION")
    assert "is not ready to tune further" in error["message"]
    done = wait_for(vertex.url, parent["name"], "JOB_STATE_SUCCEEDED")
    with pytest.raises(urllib.error.HTTPError) as wrong:
        child("99")
    assert json.loads(wrong.value.read())["error"]["status"] == "INVALID_ARGUMENT"
    made = child(done["tunedModel"]["checkpoints"][-1]["checkpointId"])
    assert made["preTunedModel"]["tunedModelName"] == model
    assert made["preTunedModel"]["baseModel"] == "gemini-2.5-flash"


def test_each_checkpoint_answers_on_its_own_endpoint_and_one_can_be_degraded(
    vertex: RunningEmulator,
) -> None:
    url = vertex.url
    done = wait_for(url, create(url, "ck")["name"], "JOB_STATE_SUCCEEDED")
    tuned = done["tunedModel"]
    first, *_, final = tuned["checkpoints"]
    endpoints = [c["endpoint"] for c in tuned["checkpoints"]]
    assert len(set(endpoints)) == len(endpoints) and final["endpoint"] == tuned["endpoint"]

    def said(endpoint: str) -> str:
        body = {"contents": [{"role": "user", "parts": [{"text": "abcdefgh"}]}]}
        r = request_json(url, "POST", f"v1beta1/{endpoint}:generateContent", body, AUTH)
        return str(r["candidates"][0]["content"]["parts"][0]["text"])

    assert {said(e) for e in endpoints} == {"ijkl"}
    request_json(url, "POST", "_emulator/config", {"degrade_models": [f"ck@{first['epoch']}"]})
    assert said(first["endpoint"]) == "lkji" and said(tuned["endpoint"]) == "ijkl"
    model = tuned["model"]
    request_json(
        url,
        "PATCH",
        f"v1beta1/{model}?updateMask=defaultCheckpointId",
        {"defaultCheckpointId": first["checkpointId"]},
        AUTH,
    )
    assert said(tuned["endpoint"]) == "lkji"  # the job's endpoint serves the default checkpoint
