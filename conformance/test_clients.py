"""A second official client: Google's generated REST clients (GAPIC, ``transport="rest"``)
drive a `gitops-tune emulator` subprocess through every call the tool makes, and every body
exchanged on the way parses strictly (the clients themselves ignore unknown fields)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.ai import generativelanguage_v1beta as glm
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.cloud import aiplatform_v1 as aip
from google.cloud import aiplatform_v1beta1 as aip_beta
from google.oauth2.credentials import Credentials
from google.protobuf import field_mask_pb2

from conformance.conftest import Served, load_corpus
from conformance.test_bodies import _report, check_bodies

T = TypeVar("T")
EXAMPLES = [("1", "2"), ("3", "4"), ("twenty two", "twenty three"), ("seven", "eight")]
PARENT = "projects/p/locations/us-central1"


def wait_until(check: Callable[[], T | None], seconds: float = 15.0) -> T:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found is not None:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


# -- the Gemini API (google-ai-generativelanguage) --------------------------------------------


def gemini_options(served: Served) -> ClientOptions:
    return ClientOptions(api_endpoint=served.url, api_key="conformance-key")


def test_gemini_model_service(emulator: Served) -> None:
    models = glm.ModelServiceClient(transport="rest", client_options=gemini_options(emulator))
    base = models.get_model(name="models/gemini-1.5-flash-001-tuning")
    assert "createTunedModel" in base.supported_generation_methods
    tuned = glm.TunedModel(
        display_name="gapic one",
        description="from the generated client",
        base_model=base.name,
        tuning_task=glm.TuningTask(
            training_data=glm.Dataset(
                examples=glm.TuningExamples(
                    examples=[glm.TuningExample(text_input=i, output=o) for i, o in EXAMPLES]
                )
            ),
            hyperparameters=glm.Hyperparameters(epoch_count=2, batch_size=2, learning_rate=0.001),
        ),
    )
    operation = models.create_tuned_model(tuned_model=tuned, tuned_model_id="gapic-one")
    assert operation.metadata.tuned_model == "tunedModels/gapic-one"
    assert operation.metadata.total_steps == 4  # ceil(4 examples x 2 epochs / 2)
    done = operation.result(timeout=20)
    assert done.state == glm.TunedModel.State.ACTIVE
    assert [m.name for m in models.list_tuned_models(page_size=10)] == ["tunedModels/gapic-one"]
    patched = models.update_tuned_model(
        tuned_model=glm.TunedModel(name="tunedModels/gapic-one", display_name="renamed"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )
    assert patched.display_name == "renamed"
    assert models.get_tuned_model(name="tunedModels/gapic-one").display_name == "renamed"
    generative = glm.GenerativeServiceClient(
        transport="rest", client_options=gemini_options(emulator)
    )
    answer = generative.generate_content(
        model="tunedModels/gapic-one",
        contents=[glm.Content(role="user", parts=[glm.Part(text="seven")])],
    )
    assert answer.candidates[0].content.parts[0].text == "eight"
    counted = generative.count_tokens(
        model=base.name, contents=[glm.Content(role="user", parts=[glm.Part(text="abcdefgh")])]
    )
    assert counted.total_tokens == 2  # the emulator: four characters a token
    models.delete_tuned_model(name="tunedModels/gapic-one")
    with pytest.raises(exceptions.NotFound):
        models.get_tuned_model(name="tunedModels/gapic-one")


# -- Vertex AI (google-cloud-aiplatform) ------------------------------------------------------


def upload(url: str, bucket: str, name: str, rows: list[dict[str, Any]]) -> str:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    for target, body in (
        (f"{url}/storage/v1/b?project=p", json.dumps({"name": bucket}).encode()),
        (f"{url}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}", data),
    ):
        request = urllib.request.Request(target, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
    return f"gs://{bucket}/{name}"


def vertex(cls: Any, served: Served) -> Any:
    return cls(
        transport="rest",
        client_options=ClientOptions(api_endpoint=served.url),
        credentials=Credentials(token="conformance-token"),
    )


def test_vertex_tuning_model_and_endpoint_services(emulator: Served) -> None:
    rows = [
        {
            "contents": [
                {"role": "user", "parts": [{"text": i}]},
                {"role": "model", "parts": [{"text": o}]},
            ]
        }
        for i, o in EXAMPLES
    ]
    uri = upload(emulator.url, "conformance", "train.jsonl", rows)
    garden = vertex(aip.ModelGardenServiceClient, emulator)
    assert garden.get_publisher_model(name="publishers/google/models/gemini-2.5-flash").name
    # v1beta1: google-genai's version (v1 binds countTokens to LlmUtilityService)
    counted = vertex(aip_beta.PredictionServiceClient, emulator).count_tokens(
        request=aip_beta.CountTokensRequest(
            endpoint=f"{PARENT}/publishers/google/models/gemini-2.5-flash",
            contents=[aip_beta.Content(role="user", parts=[aip_beta.Part(text="abcdefgh")])],
        )
    )
    assert (counted.total_tokens, counted.total_billable_characters) == (2, 8)
    tuning = vertex(aip.GenAiTuningServiceClient, emulator)
    job = tuning.create_tuning_job(
        parent=PARENT,
        tuning_job=aip.TuningJob(
            base_model="gemini-2.5-flash",
            tuned_model_display_name="gapic vertex",
            labels={"gitops-tune": "conformance"},
            supervised_tuning_spec=aip.SupervisedTuningSpec(
                training_dataset_uri=uri,
                hyper_parameters=aip.SupervisedHyperParameters(epoch_count=2),
            ),
        ),
    )
    listed = tuning.list_tuning_jobs(
        request={"parent": PARENT, "filter": 'labels.gitops-tune="conformance"'}
    )
    assert [j.name for j in listed] == [job.name]

    def succeeded() -> aip.TuningJob | None:
        got = tuning.get_tuning_job(name=job.name)
        return got if got.state == aip.JobState.JOB_STATE_SUCCEEDED else None

    done = wait_until(succeeded)
    endpoints = vertex(aip.EndpointServiceClient, emulator)
    endpoint = endpoints.get_endpoint(name=done.tuned_model.endpoint)
    deployed = endpoint.deployed_models[0].id
    endpoints.undeploy_model(endpoint=endpoint.name, deployed_model_id=deployed).result(10)
    models = vertex(aip.ModelServiceClient, emulator)
    assert models.get_model(name=done.tuned_model.model).name
    models.delete_model(name=done.tuned_model.model.split("@")[0]).result(10)
    endpoints.delete_endpoint(name=endpoint.name).result(10)

    second = tuning.create_tuning_job(
        parent=PARENT,
        tuning_job=aip.TuningJob(
            base_model="gemini-2.5-flash",
            supervised_tuning_spec=aip.SupervisedTuningSpec(training_dataset_uri=uri),
        ),
    )
    tuning.cancel_tuning_job(name=second.name)

    def cancelled() -> aip.TuningJob | None:
        got = tuning.get_tuning_job(name=second.name)
        return got if got.state == aip.JobState.JOB_STATE_CANCELLED else None

    assert wait_until(cancelled).error.code == 1


def test_every_exchange_of_the_clients_parses_strictly(emulator: Served) -> None:
    """Runs last in this module: what the two tests above sent and received."""
    records = load_corpus(Path(emulator.wire))
    assert records, "the emulator recorded nothing"
    problems = check_bodies(records, response=False) + check_bodies(records, response=True)
    assert not problems, _report(problems)
