"""Backend-aware desired state and the Vertex provider's pure parts (labels, JSONL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tune.dataset import Example
from gitops_tune.desired import collect
from gitops_tune.providers.base import Owner
from gitops_tune.providers.vertex_jobs import labels_for, owner_from, to_jsonl
from gitops_tune.settings import Invocation

EXAMPLES = [{"text_input": str(i), "output": str(i + 1)} for i in range(20)]


def write(tmp_path: Path, backend: str, **spec: Any) -> Path:
    body: dict[str, Any] = {"baseModel": "gemini-2.5-flash", "dataset": {"examples": EXAMPLES}}
    body.update(spec)
    docs = [
        {
            "apiVersion": "gitops-tune/v1",
            "kind": "Workspace",
            "metadata": {"name": "w"},
            "spec": {"backend": backend},
        },
        {
            "apiVersion": "gitops-tune/v1",
            "kind": "TunedModel",
            "metadata": {"name": "m"},
            "spec": body,
        },
    ]
    (tmp_path / "m.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return tmp_path


def errors(tmp_path: Path, backend: str, **spec: Any) -> list[str]:
    _, found = collect(
        [str(write(tmp_path, backend, **spec))],
        Invocation.from_environ(),
        remote_hashes=_hashes({}),
    )
    return [str(e) for e in found]


def _hashes(objects: dict[str, dict[str, str]]) -> Any:
    return objects.get


def test_vertex_defaults_and_no_batch_size(tmp_path: Path) -> None:
    state, found = collect([str(write(tmp_path, "vertex"))], Invocation.from_environ())
    assert found == []
    (m,) = state.models
    assert m.hyperparameters.fields() == {"epochCount": 5, "learningRateMultiplier": 1.0}
    assert m.training is not None and m.training.key == m.fingerprint


def test_fields_that_do_not_apply_are_errors_with_locations(tmp_path: Path) -> None:
    hp = {"batchSize": 8, "learningRate": 0.01}
    (batch, rate) = errors(tmp_path, "vertex", hyperparameters=hp)
    assert "m.yaml:" in batch and "spec.hyperparameters.batchSize: batchSize does not " in batch
    assert "apply to backend vertex" in batch
    assert "learningRateMultiplier" in rate
    assert "learningRate: learningRate (use learningRateMultiplier) does not apply" in rate
    (prefix,) = errors(tmp_path, "vertex", baseModel="models/gemini-1.5-flash-001-tuning")
    assert "spec.baseModel: Vertex AI names base models without 'models/'" in prefix
    found = errors(
        tmp_path,
        "gemini",
        baseModel="models/x",
        hyperparameters={"adapterSize": "ADAPTER_SIZE_FOUR"},
        validation={"examples": EXAMPLES[:2]},
    )
    assert [e.split(": ")[1] for e in found] == [
        "spec.hyperparameters.adapterSize",
        "spec.validation",
    ]
    (uri,) = errors(tmp_path, "gemini", baseModel="models/x", dataset={"uri": "gs://bkt/d.jsonl"})
    assert "spec.dataset.uri: a gs:// dataset does not apply to backend gemini" in uri


def test_gs_fingerprint_follows_the_reported_content_hash(tmp_path: Path) -> None:
    root = str(write(tmp_path, "vertex", dataset={"uri": "gs://bkt/d.jsonl"}))
    v1 = {"gs://bkt/d.jsonl": {"md5Hash": "AAAA", "crc32c": "BBBB"}}
    v2 = {"gs://bkt/d.jsonl": {"md5Hash": "CCCC", "crc32c": "DDDD"}}
    (a,) = collect([root], Invocation.from_environ(), remote_hashes=_hashes(v1))[0].models
    (b,) = collect([root], Invocation.from_environ(), remote_hashes=_hashes(v2))[0].models
    (again,) = collect([root], Invocation.from_environ(), remote_hashes=_hashes(v1))[0].models
    assert a.fingerprint != b.fingerprint and a.fingerprint == again.fingerprint
    assert a.training is not None and a.training.uri == "gs://bkt/d.jsonl"
    _, found = collect([root], Invocation.from_environ(), remote_hashes=_hashes({}))
    assert "spec.dataset.uri: no such object: gs://bkt/d.jsonl" in str(found[0])


def test_a_gs_training_file_over_the_base_models_limit_is_refused(tmp_path: Path) -> None:
    """By the size the object's metadata reports (no download), before anything is created;
    the size is not part of the fingerprint."""
    root = str(write(tmp_path, "vertex", dataset={"uri": "gs://bkt/d.jsonl"}))
    hashes = {"md5Hash": "AAAA", "crc32c": "BBBB"}
    at_limit = {"gs://bkt/d.jsonl": {**hashes, "size": str(2**30)}}
    over = {"gs://bkt/d.jsonl": {**hashes, "size": str(2**30 + 1)}}
    (fits,) = collect([root], Invocation.from_environ(), remote_hashes=_hashes(at_limit))[0].models
    (plain,) = collect(
        [root], Invocation.from_environ(), remote_hashes=_hashes({"gs://bkt/d.jsonl": hashes})
    )[0].models
    assert fits.fingerprint == plain.fingerprint
    state, found = collect([root], Invocation.from_environ(), remote_hashes=_hashes(over))
    assert not state.models
    (error,) = [str(e) for e in found]
    assert (
        "m.yaml:" in error and "spec.dataset.uri: gs://bkt/d.jsonl is 1,073,741,825 bytes" in error
    )
    assert "gemini-2.5-flash takes a training file of at most 1,073,741,824 bytes" in error
    assert 'Google\'s page "About supervised fine-tuning for Gemini models"' in error


def test_validation_data_is_part_of_the_fingerprint(tmp_path: Path) -> None:
    (plain,) = collect([str(write(tmp_path, "vertex"))], Invocation.from_environ())[0].models
    val = {"examples": EXAMPLES[:3]}
    (with_val,) = collect(
        [str(write(tmp_path, "vertex", validation=val))], Invocation.from_environ()
    )[0].models
    assert plain.fingerprint != with_val.fingerprint
    assert with_val.validation is not None and with_val.validation.examples is not None
    assert len(list(with_val.validation.examples())) == 3


def test_local_dialect_decides_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_TUNE_LOCAL_DIALECT", "vertex")
    assert errors(tmp_path, "local", hyperparameters={"adapterSize": "ADAPTER_SIZE_ONE"}) == []
    monkeypatch.setenv("GITOPS_TUNE_LOCAL_DIALECT", "gemini")
    found = errors(tmp_path, "local", hyperparameters={"adapterSize": "ADAPTER_SIZE_ONE"})
    assert "does not apply to backend local (gemini dialect)" in found[0]


def test_labels_carry_the_full_marker_within_label_rules() -> None:
    owner = Owner("ws", "next-number", "0123456789abcdef" * 4, prevent_destroy=True)
    labels = labels_for(owner, "next-number-1a2b3c4d5")
    assert all(len(v) <= 63 for v in labels.values())
    assert owner_from(labels) == owner
    assert owner_from({**labels, "gitops_tune_fp2": "x"}) is None


def test_jsonl_keeps_the_preamble_as_a_prefix_of_the_user_turn() -> None:
    (line,) = to_jsonl([Example("Next: 1", "2")]).decode().splitlines()
    assert json.loads(line) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Next: 1"}]},
            {"role": "model", "parts": [{"text": "2"}]},
        ]
    }


# -- jobs and their models as the planner sees them -------------------------------------------


def _job(state: str, **changes: Any) -> Any:
    from datetime import datetime, timezone

    from gitops_tune.backends import Hyperparameters
    from gitops_tune.providers.tuning_job import TuningJob

    owner = Owner("w", "m", "a" * 64)
    fields: dict[str, Any] = {
        "name": "projects/p/locations/l/tuningJobs/1",
        "state": state,
        "labels": labels_for(owner, "m-123456789"),
        "display_name": "m",
        "description": "",
        "base_model": "gemini-2.5-flash",
        "hyperparameters": Hyperparameters(epoch_count=2),
        "create_time": datetime(2025, 1, 1, tzinfo=timezone.utc),
        "update_time": datetime(2025, 1, 1, tzinfo=timezone.utc),
        "total_steps": None,
        "endpoint": "projects/p/locations/l/endpoints/6",
        "tuned_model": "projects/p/locations/l/models/5@1",
        "error": None,
    }
    return TuningJob(**(fields | changes))


def _model(**changes: Any) -> Any:
    from gitops_tune.providers.vertex_jobs import TunedModelInfo

    fields: dict[str, Any] = {
        "name": "projects/p/locations/l/models/5",
        "display_name": "m",
        "description": "",
        "labels": {},
        "endpoints": frozenset({"projects/p/locations/l/endpoints/6"}),
        "update_time": "2025-01-02T00:00:00Z",
    }
    return TunedModelInfo(**(fields | changes))


def test_a_job_is_judged_by_its_model() -> None:
    from gitops_tune.providers.base import State
    from gitops_tune.providers.vertex_jobs import judge

    ok = "JOB_STATE_SUCCEEDED"
    assert judge(_job(ok), _model(), newest=True).state is State.ACTIVE
    assert judge(_job(ok), None, newest=True).state is None  # model gone: dead
    retired = _model(labels={"gitops_tune_retired": "true"})
    assert judge(_job(ok), retired, newest=True).state is None
    broken = judge(_job(ok), _model(endpoints=frozenset()), newest=True)
    assert broken.state is State.FAILED and "no longer deployed" in broken.error
    for state in ("JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING"):
        assert judge(_job(state, tuned_model=""), None, newest=True).state is State.TRAINING
    cancelling = judge(_job("JOB_STATE_CANCELLING", tuned_model=""), None, newest=False)
    assert cancelling.state is State.FAILED and not cancelling.removable
    failed = _job("JOB_STATE_FAILED", tuned_model="", error="boom")
    assert judge(failed, None, newest=True) == judge(failed, None, newest=True)
    assert not judge(failed, None, newest=True).removable
    assert judge(failed, None, newest=False).state is None  # history: invisible
    assert judge(_job("JOB_STATE_CANCELLED", tuned_model=""), None, newest=True).state is None
    with_model = judge(_job("JOB_STATE_FAILED", endpoint=""), _model(endpoints=frozenset()), True)
    assert with_model.state is State.FAILED and with_model.removable


def test_the_label_filter_is_not_trusted_alone() -> None:
    from gitops_tune.providers.vertex import VertexProvider

    class IgnoresFilters:
        def tuning_jobs(self, filter_: str, page_size: int) -> Any:
            foreign = {**_job("JOB_STATE_RUNNING").labels, "gitops_tune_workspace": "other"}
            return iter([_job("JOB_STATE_RUNNING"), _job("JOB_STATE_RUNNING", labels=foreign)])

    provider = VertexProvider.__new__(VertexProvider)
    provider.sdk = IgnoresFilters()  # type: ignore[assignment]
    found = provider.workspace_jobs("w", "gitops_tune_id=m-123456789")
    assert [j.labels["gitops_tune_workspace"] for j in found] == ["w"]


def test_display_name_limit_is_the_backends(tmp_path: Path) -> None:
    name = "x" * 41
    assert errors(tmp_path, "vertex", displayName=name) == []
    (problem,) = errors(tmp_path, "gemini", displayName=name, baseModel="models/m")
    assert "spec.displayName: the Gemini API takes display names of at most 40" in problem
    assert errors(tmp_path, "vertex", displayName="x" * 128) == []


TRAINING_OPTIONS: dict[str, Any] = {
    "preTunedModel": {"tunedModelName": "projects/p/locations/l/models/123"},
    "exportLastCheckpointOnly": True,
    "serviceAccount": "tuner@p.iam.gserviceaccount.com",
    "encryptionSpec": {"kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
    "serving": {"checkpoint": "last"},
}


def test_training_options_are_refused_on_the_gemini_api_each_at_its_key(tmp_path: Path) -> None:
    found = errors(tmp_path, "gemini", baseModel="models/x", **TRAINING_OPTIONS)
    assert [e.split(": ")[1] for e in found] == [f"spec.{k}" for k in TRAINING_OPTIONS]
    assert all("m.yaml:" in e and "does not apply to backend gemini" in e for e in found)
    assert errors(tmp_path, "vertex", **TRAINING_OPTIONS) == []


def test_training_options_join_the_fingerprint_but_not_the_service_account(
    tmp_path: Path,
) -> None:
    def fingerprint(**spec: Any) -> str:
        state, found = collect([str(write(tmp_path, "vertex", **spec))], Invocation.from_environ())
        assert found == []
        return state.models[0].fingerprint

    plain = fingerprint()
    assert fingerprint(serviceAccount="a@p.iam.gserviceaccount.com") == plain
    assert fingerprint(serving={"checkpoint": 2}) == plain
    assert fingerprint(exportLastCheckpointOnly=True) != plain
    assert fingerprint(preTunedModel=TRAINING_OPTIONS["preTunedModel"]) != plain


def test_a_serving_checkpoint_that_cannot_exist_is_an_error(tmp_path: Path) -> None:
    (beyond,) = errors(tmp_path, "vertex", serving={"checkpoint": 9})
    assert "spec.serving.checkpoint: epoch 9 is beyond epochCount 5" in beyond
    (only_last,) = errors(
        tmp_path, "vertex", serving={"checkpoint": 2}, exportLastCheckpointOnly=True
    )
    assert "exportLastCheckpointOnly keeps the last only" in only_last


def test_best_needs_an_evaluation_and_every_checkpoint(tmp_path: Path) -> None:
    """Vertex AI reports no loss per checkpoint (TunedModelCheckpoint: ID, epoch, step,
    endpoint), so best is the checkpoint that scores highest on spec.evaluation: without one,
    or with only the last checkpoint kept, it is one line that says why and what to do."""
    (best,) = errors(tmp_path, "vertex", serving={"checkpoint": "best"})
    assert "spec.serving.checkpoint: best needs spec.evaluation: Vertex AI reports no loss" in best
    assert "declare spec.evaluation, or name an epoch or last" in best
    evaluation = {"dataset": {"examples": EXAMPLES[:4]}, "metric": "exactMatch", "minScore": 0.5}
    assert errors(tmp_path, "vertex", serving={"checkpoint": "best"}, evaluation=evaluation) == []
    (only_last,) = errors(
        tmp_path,
        "vertex",
        serving={"checkpoint": "best"},
        evaluation=evaluation,
        exportLastCheckpointOnly=True,
    )
    assert "spec.serving.checkpoint: best needs every checkpoint: exportLastCheckpointOnly" in (
        only_last
    )
    (gemini,) = errors(tmp_path, "gemini", serving={"checkpoint": "best"}, evaluation=evaluation)
    assert "spec.serving: serving does not apply to backend gemini" in gemini
    assert "no checkpoints to choose between" in gemini
    (word,) = errors(tmp_path, "vertex", serving={"checkpoint": "lates"})
    assert "spec.serving.checkpoint: must be last, best or an epoch number, 1 or more" in word
    (zero,) = errors(tmp_path, "vertex", serving={"checkpoint": 0})
    assert "(got 0)" in zero


def test_a_failed_jobs_listing_does_not_wait_for_the_models_listing() -> None:
    """The two listings run at once; when the jobs listing fails, its error is raised at once,
    not after the other listing (up to a timeout per page) has finished."""
    import threading

    from gitops_tune.providers.base import ProviderError
    from gitops_tune.providers.vertex import VertexProvider

    release, finished = threading.Event(), threading.Event()

    class SlowModels:
        def list(self, workspace: str) -> dict[str, Any]:
            release.wait(30)  # only a safety net: the test releases it
            finished.set()
            return {}

    class FailingJobs:
        def tuning_jobs(self, filter_: str, page_size: int) -> Any:
            raise ProviderError("list tuningJobs: 503 UNAVAILABLE", 503)

    provider = VertexProvider.__new__(VertexProvider)
    provider.sdk = FailingJobs()  # type: ignore[assignment]
    provider.models = SlowModels()  # type: ignore[assignment]
    with pytest.raises(ProviderError, match="list tuningJobs"):
        provider.list_models("w")
    assert not finished.is_set()  # raised while the models listing was still running
    release.set()
    assert finished.wait(30)
