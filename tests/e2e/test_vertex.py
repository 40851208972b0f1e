"""What only Vertex AI has, end to end: state on Google's own resources (no side index), what
happens when someone deletes that state by hand, server-filled defaults, refused deletes,
staged data clean-up and the move off the index earlier versions kept."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from gitops_tune.emulator.server import EmulatorConfig, start
from gitops_tune.providers.tuning_job import from_json
from tests.e2e.conftest import ACCESS_TOKEN, BUCKET, LOCATION, PROJECT, Repo, repo_for, vertex_rest
from tests.harness import request_json

V1 = {"epochCount": 2}
V2 = {"epochCount": 3}
EXAMPLES = [{"text_input": f"q{i}", "output": f"a{i}"} for i in range(24)]


@pytest.fixture
def vrepo(tmp_path: Path) -> Iterator[Repo]:
    """The vertex backend on an emulator with slow long-running operations."""
    with start(EmulatorConfig(port=0, train_seconds=1.0, operation_seconds=0.3)) as running:
        yield repo_for("vertex", tmp_path, running)


def jobs(repo: Repo) -> dict[str, dict[str, Any]]:
    found = vertex_rest(repo.url, "GET", "tuningJobs?pageSize=1000").get("tuningJobs", [])
    return {j["name"]: j for j in found}


def read_alike(repo: Repo) -> None:
    """Each job reads the same from Vertex AI's REST JSON (how the provider lists and gets
    jobs) as from google-genai's typed ``TuningJob`` of it dumped by alias (how it reads the
    job a create answers)."""
    from google import genai
    from google.oauth2.credentials import Credentials

    options = types.HttpOptions(base_url=repo.url)
    credentials = Credentials(ACCESS_TOKEN)  # type: ignore[no-untyped-call]
    client = genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=credentials,
        http_options=options,
    )
    found = jobs(repo)
    assert found
    for name, rest in found.items():
        typed = client.tunings.get(name=name).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        assert from_json(rest) == from_json(typed), name


def model_of(repo: Repo, job: str) -> dict[str, Any]:
    name = jobs(repo)[job]["tunedModel"]["model"].split("@")[0]
    doc: dict[str, Any] = request_json(
        repo.url, "GET", f"v1beta1/{name}", headers={"Authorization": "Bearer x"}
    )
    return doc


def patch(repo: Repo, name: str, mask: str, body: dict[str, Any]) -> None:
    path = f"v1beta1/{name.split('@')[0]}?updateMask={mask}"
    request_json(repo.url, "PATCH", path, body, {"Authorization": "Bearer x"})


def objects(repo: Repo) -> list[str]:
    listing = request_json(repo.url, "GET", f"storage/v1/b/{BUCKET}/o")
    return sorted(o["name"] for o in listing.get("items", []))


def unserve(repo: Repo, job: str) -> None:
    """Undeploy the job's model and delete its endpoint, by hand."""
    endpoint = jobs(repo)[job]["tunedModel"]["endpoint"]
    auth = {"Authorization": "Bearer x"}
    doc = request_json(repo.url, "GET", f"v1beta1/{endpoint}", headers=auth)
    for deployed in doc["deployedModels"]:
        body = {"deployedModelId": deployed["id"]}
        request_json(repo.url, "POST", f"v1beta1/{endpoint}:undeployModel", body, auth)
    request_json(repo.url, "DELETE", f"v1beta1/{endpoint}", headers=auth)


def trained(repo: Repo, **spec: Any) -> str:
    repo.write("alpha", **spec)
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    (job,) = [m["name"] for m in repo.models() if m["state"] == "ACTIVE"][-1:]
    return str(job)


def test_state_lives_on_the_job_and_its_model_not_in_the_bucket(vrepo: Repo) -> None:
    job = trained(vrepo)
    assert all(not o.startswith("gitops-tune/jobs/") for o in objects(vrepo))
    labels = jobs(vrepo)[job]["labels"]
    assert labels["gitops_tune_workspace"] == "e2e" and labels["gitops_tune_schema"] == "2"
    # The server filled in an adapterSize the manifest does not set: no change.
    spec = jobs(vrepo)[job]["supervisedTuningSpec"]["hyperParameters"]
    assert spec["adapterSize"] == "ADAPTER_SIZE_FOUR"
    assert vrepo.actions() == [("alpha", "no-op")]

    vrepo.write("alpha", displayName="Alpha v2", description="words")
    assert vrepo.apply().exit_code == 0
    model = model_of(vrepo, job)
    assert (model["displayName"], model["description"]) == ("Alpha v2", "words")
    assert model["labels"]["gitops_tune_updated"].isdigit()
    assert jobs(vrepo)[job]["tunedModelDisplayName"] == "alpha"  # jobs are immutable
    assert vrepo.actions() == [("alpha", "no-op")]


def test_declared_adapter_size_is_compared(vrepo: Repo) -> None:
    trained(vrepo)
    vrepo.write("alpha", hyperparameters={"epochCount": 2, "adapterSize": "ADAPTER_SIZE_EIGHT"})
    (change,) = vrepo.plan_json()["changes"]
    assert change["action"] == "replace"
    assert change["reasons"] == ["hyperparameters.adapterSize changed"]


def test_labels_removed_by_hand_release_the_model_and_nothing_serving_is_deleted(
    vrepo: Repo,
) -> None:
    job = trained(vrepo)
    model = model_of(vrepo, job)
    patch(vrepo, model["name"], "labels", {"labels": {}})
    plan = vrepo.plan_json()
    assert [(c["action"], c["remote"]) for c in plan["changes"]] == [("create", None)]
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert model_of(vrepo, job)["deployedModels"]  # still serving: it is no longer ours
    assert vrepo.actions() == [("alpha", "no-op")]


def test_endpoint_deleted_by_hand_is_broken_and_trained_again(vrepo: Repo) -> None:
    job = trained(vrepo)
    unserve(vrepo, job)
    status = vrepo.cli("status")
    assert "broken" in status.stdout + status.stderr, status.output
    (change,) = vrepo.plan_json()["changes"]
    assert change["action"] == "recreate" and change["remote"] == job
    assert "no longer deployed" in change["reasons"][0]
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert vrepo.actions() == [("alpha", "no-op")]
    assert job not in vrepo.ids()


def test_revert_onto_a_dead_model_trains_instead_of_restoring(vrepo: Repo) -> None:
    lifecycle = {"retainPrevious": 1}
    v1 = trained(vrepo, hyperparameters=V1, lifecycle=lifecycle)
    v2 = trained(vrepo, hyperparameters=V2, lifecycle=lifecycle)
    assert {v1, v2} <= set(vrepo.ids())
    unserve(vrepo, v1)  # the retained model stops serving: it must never be restored
    vrepo.write("alpha", hyperparameters=V1, lifecycle=lifecycle)
    actions = [(c["action"], c["remote"]) for c in vrepo.plan_json()["changes"]]
    assert ("restore", v1) not in actions
    assert ("recreate", v1) in actions
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert vrepo.actions() == [("alpha", "no-op")]
    assert v2 in vrepo.ids()  # the serving model was not deleted before its replacement


def test_refused_model_delete_retires_by_label(vrepo: Repo) -> None:
    job = trained(vrepo)
    request_json(vrepo.url, "POST", "_emulator/vertex", {"refuse_model_delete": True})
    vrepo.remove("alpha")
    result = vrepo.apply()
    assert result.exit_code == 0, result.output
    assert "refused to delete" in result.stderr
    model = model_of(vrepo, job)
    assert model["labels"]["gitops_tune_retired"] == "true"
    assert model["labels"]["gitops_tune_delete_refused"] == "400"
    assert "deployedModels" not in model
    assert vrepo.models() == []
    assert "No changes." in vrepo.cli("plan").stdout


@pytest.fixture
def refusing(tmp_path: Path) -> Iterator[Repo]:
    """The vertex backend on an emulator started as `emulator --refuse-model-delete` is."""
    config = EmulatorConfig(
        port=0, train_seconds=1.0, operation_seconds=0.2, refuse_model_delete=True
    )
    with start(config) as running:
        yield repo_for("vertex", tmp_path, running)


def retirement_of(repo: Repo, name: str) -> dict[str, Any]:
    (change,) = [c for c in repo.plan_json()["changes"] if c["name"] == name]
    assert change["action"] == "delete"
    (retiring,) = change["retirements"]
    assert retiring["model"] == change["remote"]
    return dict(retiring)


def test_the_plan_says_what_retirement_does_and_when_a_refusal_is_expected(
    refusing: Repo,
) -> None:
    refusing.write("alpha")
    refusing.write("beta", description="another")
    assert refusing.apply("--wait").exit_code == 0
    by_name = {m["owner"][1]: jobs(refusing)[m["name"]] for m in refusing.models()}
    alpha, beta = by_name["alpha"], by_name["beta"]
    refusing.remove("alpha")
    # Nothing refused yet: the plan says what is tried, and what happens if Vertex AI refuses.
    first = retirement_of(refusing, "alpha")
    model = alpha["tunedModel"]["model"].split("@")[0].rsplit("/", 2)
    tuned = alpha["tunedModel"]
    # the job's endpoint and the endpoints its intermediate checkpoints were deployed to
    endpoints = sorted(
        {
            e.rsplit("/", 1)[-1]
            for e in [tuned["endpoint"]] + [c["endpoint"] for c in tuned["checkpoints"]]
        }
    )
    assert len(endpoints) == 2  # epochCount 2: one intermediate checkpoint
    assert first["steps"] == [
        f"undeploy models/{model[-1]} from endpoints/{e} and delete endpoints/{e}"
        for e in endpoints
    ] + [f"delete tuned model models/{model[-1]}"]
    assert "gitops_tune_retired=true" in first["if_refused"][0]
    assert first["refused_before"] is None
    text = refusing.cli("plan").stdout
    assert f"# retiring {alpha['name']}: undeploy" in text
    assert "#   if the delete is refused: label" in text
    assert refusing.apply().exit_code == 0
    # The refusal is on record (the retired model's labels): the next plan expects another.
    refusing.remove("beta")
    second = retirement_of(refusing, "beta")
    assert second["refused_before"].startswith(
        f"Vertex AI refused to delete models/{model[-1]} (HTTP 400) on 20"
    )
    text = refusing.cli("plan").stdout
    assert f"# retiring {beta['name']}" in text and "#   refusal expected (Vertex AI" in text
    markdown = refusing.cli("plan", "--format", "markdown").stdout
    assert "> **Retirement** on `beta`: retiring" in markdown
    assert "> refusal expected (Vertex AI refused to delete" in markdown
    result = refusing.apply()
    assert result.exit_code == 0, result.output
    assert "refused to delete" in result.stderr
    assert refusing.models() == []


def test_destroy_removes_staged_data(vrepo: Repo) -> None:
    trained(vrepo)
    assert any(o.endswith(".jsonl") for o in objects(vrepo))
    result = vrepo.cli("destroy", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert objects(vrepo) == []


def staged(repo: Repo) -> list[str]:
    return [o for o in objects(repo) if o.endswith(".jsonl")]


def test_a_hyperparameter_change_trains_from_the_data_already_staged(vrepo: Repo) -> None:
    v1 = trained(vrepo, hyperparameters=V1)
    (first,) = staged(vrepo)
    v2 = trained(vrepo, hyperparameters=V2)
    assert staged(vrepo) == [first]  # uploaded once, named by the examples' own hash
    uris = {j["supervisedTuningSpec"]["trainingDatasetUri"] for j in jobs(vrepo).values()}
    assert uris == {f"gs://{BUCKET}/{first}"}
    assert v1 not in vrepo.ids() and v2 in vrepo.ids()  # the old job is gone, its data stays
    vrepo.write("alpha", hyperparameters=V2, dataset={"examples": EXAMPLES})
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert len(staged(vrepo)) == 1 and staged(vrepo) != [first]  # new data: the old removed
    result = vrepo.cli("destroy", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert staged(vrepo) == []


def legacy_index_for(repo: Repo, job: str) -> None:
    """Make the job's model look made by an earlier version: no schema label, and an index
    object in the staging bucket that says what changed after the job was created."""
    model = model_of(repo, job)
    labels = {k: v for k, v in model["labels"].items() if k != "gitops_tune_schema"}
    patch(repo, model["name"], "labels", {"labels": labels})
    marker = {"job": job, "displayName": "From the index", "description": "old words"}
    name = f"gitops-tune/jobs/{job.rsplit('/', 1)[-1]}"
    metadata = json.dumps({"name": name, "metadata": marker}).encode()
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
        + metadata
        + f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
        f"--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{repo.url}/upload/storage/v1/b/{BUCKET}/o?uploadType=multipart",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/related; boundary={boundary}"},
    )
    urllib.request.urlopen(request).read()


def test_an_index_from_earlier_versions_is_announced_by_plan_and_moved_by_apply(
    vrepo: Repo,
) -> None:
    job = trained(vrepo)
    legacy_index_for(vrepo, job)

    doc = vrepo.plan_json()
    where = f"gs://{BUCKET}/gitops-tune/jobs/"
    assert doc["migration"] == {"source": where, "models": [job]}
    (change,) = doc["changes"]
    assert change["action"] == "update"  # the manifest says "alpha": the index's name goes
    before = {a["path"]: a["before"] for a in change["diff"]}
    assert before["displayName"] == "From the index"  # its facts are used at once
    text = vrepo.cli("plan", "--detailed-exitcode")
    assert text.exit_code == 2
    assert f"migration: 1 model(s)' facts in {where}" in text.stdout
    assert "the index is then ignored" in text.stdout
    assert "to migrate" in text.stdout
    markdown = vrepo.cli("plan", "--format", "markdown").stdout
    assert f"> **Migration**: 1 model(s)' facts in {where}" in markdown
    model = model_of(vrepo, job)
    assert "gitops_tune_schema" not in model["labels"]  # a plan writes nothing

    # With nothing else to change, the migration alone is what apply does.
    vrepo.write("alpha", displayName="From the index", description="old words")
    result = vrepo.apply()
    assert result.exit_code == 0, result.output
    assert "moved what" in result.stderr
    model = model_of(vrepo, job)
    assert model["displayName"] == "From the index"
    assert model["labels"]["gitops_tune_schema"] == "2"
    after = vrepo.cli("plan")
    assert "migration" not in after.stdout and "No changes." in after.stdout  # read once
    assert vrepo.plan_json()["migration"] is None


def test_status_says_plainly_that_vertex_reports_no_loss_curve(vrepo: Repo) -> None:
    trained(vrepo)
    result = vrepo.cli("status", "--loss", "alpha")
    assert result.exit_code == 0, result.output
    assert "does not report a loss curve" in result.stdout


def model_version(repo: Repo, job: str) -> dict[str, Any]:
    name = jobs(repo)[job]["tunedModel"]["model"]
    doc: dict[str, Any] = request_json(
        repo.url, "GET", f"v1beta1/{name}", headers={"Authorization": "Bearer x"}
    )
    return doc


def test_a_checkpoint_switch_needs_no_training(vrepo: Repo) -> None:
    job = trained(vrepo, hyperparameters={"epochCount": 3})
    checkpoints = jobs(vrepo)[job]["tunedModel"]["checkpoints"]
    assert [c["epoch"] for c in checkpoints] == ["1", "2", "3"]
    assert model_version(vrepo, job)["defaultCheckpointId"] == checkpoints[-1]["checkpointId"]

    vrepo.write("alpha", hyperparameters={"epochCount": 3}, serving={"checkpoint": 2})
    (change,) = vrepo.plan_json()["changes"]
    assert (change["action"], change["remote"]) == ("update", job)
    assert change["reason_codes"] == ["serving_checkpoint_changed"]
    assert change["diff"] == [{"path": "serving.checkpoint", "before": "3", "after": "2"}]
    result = vrepo.apply()
    assert result.exit_code == 0, result.output
    assert model_version(vrepo, job)["defaultCheckpointId"] == checkpoints[1]["checkpointId"]
    assert list(jobs(vrepo)) == [job]  # nothing trained
    assert vrepo.actions() == [("alpha", "no-op")]

    vrepo.write("alpha", hyperparameters={"epochCount": 3}, serving={"checkpoint": "last"})
    assert vrepo.actions() == [("alpha", "update")]
    assert vrepo.apply().exit_code == 0
    assert model_version(vrepo, job)["defaultCheckpointId"] == checkpoints[-1]["checkpointId"]
    assert vrepo.actions() == [("alpha", "no-op")]


def test_export_last_checkpoint_only_is_sent_and_trains_again_when_changed(vrepo: Repo) -> None:
    job = trained(vrepo, exportLastCheckpointOnly=True)
    spec = jobs(vrepo)[job]["supervisedTuningSpec"]
    assert spec["exportLastCheckpointOnly"] is True
    assert len(jobs(vrepo)[job]["tunedModel"]["checkpoints"]) == 1
    assert vrepo.plan_json()["changes"][0]["action"] == "no-op", vrepo.plan_json()["changes"]
    vrepo.write("alpha")
    (change,) = vrepo.plan_json()["changes"]
    assert change["action"] == "replace"
    assert change["reason_codes"] == ["training_options_changed"]


def test_continuous_tuning_from_an_existing_tuned_model(vrepo: Repo) -> None:
    job = trained(vrepo)
    model = jobs(vrepo)[job]["tunedModel"]["model"].split("@")[0]
    checkpoint = jobs(vrepo)[job]["tunedModel"]["checkpoints"][0]["checkpointId"]
    pre = {"tunedModelName": model, "checkpointId": checkpoint}
    vrepo.write("beta", preTunedModel=pre)
    plan = vrepo.plan_json()
    (beta,) = [c for c in plan["changes"] if c["name"] == "beta"]
    assert beta["action"] == "create"
    assert beta["notes"] == [f"tune further from {model} (checkpoint {checkpoint})"]
    text = vrepo.cli("plan").stdout
    assert f"tune further from {model}" in text
    result = vrepo.apply("--wait")
    assert result.exit_code == 0, result.output
    (further,) = [j for j in jobs(vrepo).values() if j.get("preTunedModel")]
    assert further["preTunedModel"]["tunedModelName"] == model
    assert further["preTunedModel"]["checkpointId"] == checkpoint
    assert further["preTunedModel"]["baseModel"] == vrepo.base
    assert "baseModel" not in further  # one of baseModel and preTunedModel (tuning_job.proto)
    assert sorted(vrepo.actions()) == [("alpha", "no-op"), ("beta", "no-op")]
    read_alike(vrepo)


def test_service_account_and_cmek_are_sent_and_echoed(vrepo: Repo) -> None:
    account = "tuner@e2e-project.iam.gserviceaccount.com"
    key = "projects/e2e-project/locations/us-central1/keyRings/r/cryptoKeys/k"
    job = trained(vrepo, serviceAccount=account, encryptionSpec={"kmsKeyName": key})
    doc = jobs(vrepo)[job]
    assert doc["serviceAccount"] == account
    assert doc["encryptionSpec"] == {"kmsKeyName": key}
    assert vrepo.actions() == [("alpha", "no-op")]
    read_alike(vrepo)
    vrepo.write("alpha", serviceAccount="other@e2e-project.iam.gserviceaccount.com")
    (change,) = vrepo.plan_json()["changes"]
    assert change["action"] == "replace"  # the key changed; the account alone would not train
    assert change["reason_codes"] == ["training_options_changed"]
