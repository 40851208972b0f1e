"""The Gemini API's answers: the JSON shapes of tuned models and their operations.

Shapes follow the public v1beta REST reference (ai.google.dev/api/tuning): camelCase JSON,
proto3 style (empty strings, zeros and false are left out), google.longrunning Operations for
create. Everything is computed from a stored record and ``now`` (`training`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
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


FinishedSnapshots = Callable[[ModelRecord, training.Job, int], str]
"""(record, simulation, completed steps) -> a finished job's snapshots as JSON text."""


def tuned_model_text(
    rec: ModelRecord, now: float, finished: FinishedSnapshots | None = None
) -> str:
    """`tuned_model_json`, encoded; a finished job's snapshots never change, so they are
    encoded once and kept (``finished``: the store's copy, which outlives the process; by
    default this process's cache): that is what makes a list of 1,000 finished models cheap."""
    out, sim, completed = _tuned_model(rec, now)
    if not completed:
        return json.dumps(out, ensure_ascii=False)
    task = out.pop("tuningTask")
    head = json.dumps(out, ensure_ascii=False)[:-1]
    task_head = json.dumps(task, ensure_ascii=False)[:-1]
    if completed == sim.steps or training.progress(sim, now).state != "CREATING":
        snaps = (finished or _cached)(rec, sim, completed)
    else:
        snaps = json.dumps(_snapshots_json(sim, completed))
    return f'{head}, "tuningTask": {task_head}, "snapshots": {snaps}}}}}'


def _cached(rec: ModelRecord, sim: training.Job, completed: int) -> str:
    return finished_snapshots_text(sim, completed)


@functools.lru_cache(maxsize=4096)
def finished_snapshots_text(sim: training.Job, completed: int) -> str:
    """A finished job's snapshots as JSON text, computed once per process."""
    return json.dumps(_snapshots_json(sim, completed))


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
