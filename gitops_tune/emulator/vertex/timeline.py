"""How a Vertex AI tuning job moves through its states, derived from its stored times.

The ``JobState`` values and their order come from ``google/cloud/aiplatform/v1/job_state.proto``:
a job is ``QUEUED`` ("just created ... processing has not yet begun"), then ``PENDING`` ("the
service is preparing to run the job"), then ``RUNNING``; it ends ``SUCCEEDED``, ``FAILED``,
``CANCELLED`` or ``EXPIRED``. ``CANCELLING`` lasts from a ``tuningJobs.cancel`` until the
cancellation takes effect ("from this state the job may only go to either SUCCEEDED, FAILED or
CANCELLED"), as ``GenAiTuningService.CancelTuningJob`` documents: "starts asynchronous
cancellation".

Two failure shapes seen in recorded real responses are simulated on request, by a word in the
tuned model's display name: `NO_ENDPOINT_WORD` ends ``FAILED`` with code 13 "Failed to create
endpoint. Tuned model is uploaded and can be accessed through Model Registry." and a
``tunedModel`` with a ``model`` but no ``endpoint``; `EXPIRE_WORD` expires in the queue. The
training itself (steps, loss, `training.FAIL_WORD`) is `training`'s simulation, started when
the queue is left.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops_tune.emulator import training

NO_ENDPOINT_WORD = "EMULATOR_NO_ENDPOINT"
EXPIRE_WORD = "EMULATOR_EXPIRE"
NO_ENDPOINT_ERROR = (
    "Failed to create endpoint. Tuned model is uploaded and can be accessed through Model Registry."
)
QUEUE_SHARE = 0.2  # of train_seconds spent QUEUED then PENDING (half each)
CANCEL_SHARE = 0.2  # of train_seconds a cancellation takes (CANCELLING)
#: The states a job can still be cancelled in.
ACTIVE_STATES = frozenset(
    {"JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_CANCELLING"}
)


@dataclass(frozen=True)
class JobStatus:
    state: str  # a JobState name, e.g. "JOB_STATE_RUNNING"
    start_time: float | None  # first entered RUNNING
    end_time: float | None
    error: tuple[int, str] | None  # google.rpc.Status code and message
    has_model: bool  # a tuned Model exists (unless deleted since)
    has_endpoint: bool  # ... and was deployed to an Endpoint
    progress: training.Progress | None  # None before the job runs


def start_time(doc: Mapping[str, Any]) -> float:
    return float(doc["create_time"]) + float(doc.get("queue_seconds", 0.0))


def job_sim(doc: Mapping[str, Any]) -> training.Job:
    """The training simulation of a stored job, started when it leaves the queue."""
    return training.Job(
        start=start_time(doc),
        train_seconds=doc["train_seconds"],
        steps=doc["steps"],
        steps_per_epoch=doc["steps_per_epoch"],
        seed=int(doc["seed"]),
        fail=doc["fail"],
        cancel_time=doc.get("cancel_time"),
        epochs=int(doc["hyper"]["epochCount"]),
    )


def _cancelling(doc: Mapping[str, Any], now: float) -> bool:
    requested = doc.get("cancel_requested")
    return requested is not None and now >= requested


def _queued(doc: Mapping[str, Any], now: float) -> JobStatus | None:
    """The status while the job waits to run (or expired waiting); None once it runs."""
    start = start_time(doc)
    cancel = doc.get("cancel_time")
    if cancel is not None and cancel <= start and now >= cancel:
        return JobStatus("JOB_STATE_CANCELLED", None, cancel, (1, "CANCELED"), False, False, None)
    if now >= start:
        if doc.get("expire"):
            return JobStatus("JOB_STATE_EXPIRED", None, start, None, False, False, None)
        return None
    if _cancelling(doc, now):
        return JobStatus("JOB_STATE_CANCELLING", None, None, None, False, False, None)
    half = float(doc["create_time"]) + (start - float(doc["create_time"])) / 2
    state = "JOB_STATE_QUEUED" if now < half else "JOB_STATE_PENDING"
    return JobStatus(state, None, None, None, False, False, None)


def status(doc: Mapping[str, Any], now: float) -> JobStatus:
    waiting = _queued(doc, now)
    if waiting is not None:
        return waiting
    start = start_time(doc)
    prog = training.progress(job_sim(doc), now)
    if prog.state == "CREATING":
        state = "JOB_STATE_CANCELLING" if _cancelling(doc, now) else "JOB_STATE_RUNNING"
        return JobStatus(state, start, None, None, False, False, prog)
    if prog.cancelled:
        end = prog.complete_time
        return JobStatus("JOB_STATE_CANCELLED", start, end, (1, "CANCELED"), False, False, prog)
    if prog.state == "FAILED":
        error = (13, prog.error or "Tuning failed.")
        return JobStatus("JOB_STATE_FAILED", start, prog.complete_time, error, False, False, prog)
    if doc.get("no_endpoint"):
        error = (13, NO_ENDPOINT_ERROR)
        return JobStatus("JOB_STATE_FAILED", start, prog.complete_time, error, True, False, prog)
    return JobStatus("JOB_STATE_SUCCEEDED", start, prog.complete_time, None, True, True, prog)


# -- checkpoints ----------------------------------------------------------------------------


def checkpoints(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The checkpoints a job saves ("Use checkpoints in supervised fine-tuning for Gemini
    models"): one after each epoch for fewer than 10 epochs, about 10 evenly spread
    otherwise, the final one always; only the final one with ``exportLastCheckpointOnly``.
    The final one is the default, served by the job's endpoint; each intermediate one is
    deployed to an endpoint of its own ("Intermediate checkpoints are deployed to new
    endpoints sequentially as tuning progresses"), numbered after the job's endpoint."""
    epochs = int(doc["hyper"]["epochCount"])
    if doc.get("export_last_checkpoint_only"):
        chosen = [epochs]
    elif epochs < 10:
        chosen = list(range(1, epochs + 1))
    else:
        chosen = sorted({max(1, round(i * epochs / 10)) for i in range(1, 11)} | {epochs})
    per_epoch = int(doc["steps_per_epoch"])
    return [
        {
            "id": str(n),
            "epoch": epoch,
            "step": epoch * per_epoch,
            "endpoint_id": (
                doc["endpoint_id"] if epoch == epochs else str(int(doc["endpoint_id"]) + n)
            ),
        }
        for n, epoch in enumerate(chosen, 1)
    ]


def default_checkpoint(doc: Mapping[str, Any]) -> str:
    """The checkpoint the endpoint serves: as patched, else the final one."""
    found = doc.get("checkpoints") or []
    return str(doc.get("model_default_checkpoint_id") or (found[-1]["id"] if found else ""))


# -- tuningDataStats ---------------------------------------------------------------------------


def _tokens(text: str) -> int:
    """The emulator's token count: one token per 4 characters, at least one."""
    return max(1, -(-len(text) // 4))


def _distribution(values: list[int]) -> dict[str, Any]:
    """A ``SupervisedTuningDatasetDistribution`` (tuning_job.proto): int64 ``sum`` as a string,
    doubles as numbers, a histogram of up to 5 buckets."""
    ordered = sorted(values)
    n = len(ordered)

    def pct(p: float) -> float:
        return float(ordered[min(n - 1, int(p * n))])

    low, high = ordered[0], ordered[-1]
    width = max(1, -(-(high - low + 1) // 5))
    buckets: dict[int, int] = {}
    for v in ordered:
        buckets[(v - low) // width] = buckets.get((v - low) // width, 0) + 1
    return {
        "sum": str(sum(ordered)),
        "min": float(low),
        "max": float(high),
        "mean": round(sum(ordered) / n, 3),
        "median": pct(0.5),
        "p5": pct(0.05),
        "p95": pct(0.95),
        "buckets": [
            {
                "count": float(count),
                "left": float(low + i * width),
                "right": float(min(high, low + (i + 1) * width - 1)),
            }
            for i, count in sorted(buckets.items())
        ],
    }


def data_stats(data: bytes, epochs: int) -> dict[str, Any]:
    """``tuningDataStats`` as recorded real responses carry it: the example count, billable
    tokens and the token distributions, no step count (``tuningStepCount`` is in the proto but
    absent from them). The JSONL was checked at create time."""
    inputs: list[int] = []
    outputs: list[int] = []
    messages: list[int] = []
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        contents = json.loads(line)["contents"]
        texts = [(t["role"], "".join(p.get("text", "") for p in t["parts"])) for t in contents]
        inputs.append(sum(_tokens(text) for role, text in texts if role == "user"))
        outputs.append(sum(_tokens(text) for role, text in texts if role == "model"))
        messages.append(len(contents))
    return {
        "supervisedTuningDataStats": {
            "tuningDatasetExampleCount": str(len(inputs)),
            "totalBillableTokenCount": str((sum(inputs) + sum(outputs)) * epochs),
            "userInputTokenDistribution": _distribution(inputs),
            "userOutputTokenDistribution": _distribution(outputs),
            "userMessagePerExampleDistribution": _distribution(messages),
        }
    }
