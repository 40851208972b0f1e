"""The Gemini API's answers: the JSON shapes of tuned models and their operations.

Shapes follow the public v1beta REST reference (ai.google.dev/api/tuning): camelCase JSON,
proto3 style (empty strings, zeros and false are left out), google.longrunning Operations for
create. Everything is computed from a stored record and ``now`` (`training`).
"""

from __future__ import annotations

from typing import Any

from gitops_tune.emulator import training
from gitops_tune.emulator.store import ModelRecord

API_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta"


def job(rec: ModelRecord) -> training.Job:
    """The training simulation of a stored model."""
    return training.Job(
        start=rec.create_time,
        train_seconds=rec.train_seconds,
        steps=rec.total_steps,
        steps_per_epoch=rec.steps_per_epoch,
        seed=rec.data_seed,
        fail=rec.fail,
        cancel_time=rec.cancel_time,
        epochs=int(rec.hyperparameters["epochCount"]),
    )


def _snapshots_json(sim: training.Job, completed: int) -> list[dict[str, Any]]:
    return [
        {
            "step": s.step,
            "epoch": s.epoch,
            "meanLoss": s.mean_loss,
            "computeTime": training.rfc3339(s.compute_time),
        }
        for s in training.snapshots(sim, completed)
    ]


def _tuned_model(rec: ModelRecord, now: float) -> tuple[dict[str, Any], training.Job, int]:
    """A TunedModel's JSON without its snapshots, the job, and how many steps it completed."""
    sim = job(rec)
    prog = training.progress(sim, now)
    task: dict[str, Any] = {"startTime": training.rfc3339(rec.create_time)}
    if prog.complete_time is not None:
        task["completeTime"] = training.rfc3339(prog.complete_time)
    task["hyperparameters"] = dict(rec.hyperparameters)
    update_time = rec.update_time
    if prog.complete_time is not None:
        update_time = max(update_time, prog.complete_time)
    out: dict[str, Any] = {"name": f"tunedModels/{rec.id}"}
    if rec.display_name:
        out["displayName"] = rec.display_name
    if rec.description:
        out["description"] = rec.description
    out["state"] = prog.state
    out["createTime"] = training.rfc3339(rec.create_time)
    out["updateTime"] = training.rfc3339(update_time)
    out["baseModel"] = rec.base_model
    out.update(rec.sampling)
    if rec.readers:
        out["readerProjectNumbers"] = list(rec.readers)  # int64: strings in proto3 JSON
    out["tuningTask"] = task
    return out, sim, prog.completed_steps


def tuned_model_json(rec: ModelRecord, now: float) -> dict[str, Any]:
    out, sim, completed = _tuned_model(rec, now)
    snaps = _snapshots_json(sim, completed)
    if snaps:
        out["tuningTask"]["snapshots"] = snaps
    return out


def operation_json(rec: ModelRecord, now: float) -> dict[str, Any]:
    sim = job(rec)
    prog = training.progress(sim, now)
    metadata: dict[str, Any] = {
        "@type": f"{API_TYPE}.CreateTunedModelMetadata",
        "tunedModel": f"tunedModels/{rec.id}",
        "totalSteps": rec.total_steps,
    }
    if prog.completed_steps:
        metadata["completedSteps"] = prog.completed_steps
        metadata["completedPercent"] = round(100.0 * prog.completed_steps / rec.total_steps, 4)
        metadata["snapshots"] = _snapshots_json(sim, prog.completed_steps)
    out: dict[str, Any] = {
        "name": f"tunedModels/{rec.id}/operations/{rec.operation_id}",
        "metadata": metadata,
    }
    if prog.state == "ACTIVE":
        out["done"] = True
        out["response"] = {"@type": f"{API_TYPE}.TunedModel", **tuned_model_json(rec, now)}
    elif prog.state == "FAILED":
        out["done"] = True
        out["error"] = {"code": 1 if prog.cancelled else 13, "message": prog.error or ""}
    return out
