"""The Vertex provider's pure parts: the ownership marker as labels, the supervised-tuning
JSONL, and a tuning job (plus its marker object) as a ``RemoteModel``. See ``vertex`` for the
identity and ownership scheme."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from gitops_tune.dataset import Example
from gitops_tune.providers.base import Owner, RemoteModel, State
from gitops_tune.providers.sdk_genai import TuningJob

PREFIX = "gitops_tune_"
L_WORKSPACE, L_NAME, L_ID = f"{PREFIX}workspace", f"{PREFIX}name", f"{PREFIX}id"
L_FP1, L_FP2, L_PROTECT = f"{PREFIX}fp1", f"{PREFIX}fp2", f"{PREFIX}protect"

_STATES = {
    "JOB_STATE_SUCCEEDED": State.ACTIVE,
    "JOB_STATE_FAILED": State.FAILED,
    "JOB_STATE_CANCELLED": State.FAILED,
    "JOB_STATE_EXPIRED": State.FAILED,
    "JOB_STATE_PARTIALLY_SUCCEEDED": State.FAILED,
}


def labels_for(owner: Owner, model_id: str) -> dict[str, str]:
    """The ownership marker as Google Cloud labels (values at most 63 characters)."""
    return {
        L_WORKSPACE: owner.workspace,
        L_NAME: owner.name,
        L_ID: model_id,
        L_FP1: owner.fingerprint[:32],
        L_FP2: owner.fingerprint[32:],
        L_PROTECT: "true" if owner.prevent_destroy else "false",
    }


def owner_from(values: Mapping[str, str]) -> Owner | None:
    """Labels (or a marker object's metadata, same keys) -> the owner; malformed: None."""
    ws, name = values.get(L_WORKSPACE, ""), values.get(L_NAME, "")
    fp = values.get(L_FP1, "") + values.get(L_FP2, "")
    if not ws or not name or len(fp) != 64 or any(c not in "0123456789abcdef" for c in fp):
        return None
    return Owner(ws, name, fp, values.get(L_PROTECT) == "true")


def to_jsonl(examples: Iterable[Example]) -> bytes:
    """Examples -> the Vertex supervised-tuning JSONL (the preamble is already in the input)."""
    lines = []
    for e in examples:
        row = {
            "contents": [
                {"role": "user", "parts": [{"text": e.text_input}]},
                {"role": "model", "parts": [{"text": e.output}]},
            ]
        }
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode("utf-8")


def job_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def job_state(job: TuningJob) -> State:
    return _STATES.get(job.state, State.TRAINING)


def retired(marker: Mapping[str, str] | None) -> bool:
    """Whether a marker object says its job was deleted (and so is invisible)."""
    return marker is not None and marker.get("retired") == "true"


def to_remote(job: TuningJob, marker: Mapping[str, str] | None) -> RemoteModel:
    """The job as a model: the marker object's values override the job's labels and fields."""
    values = {**job.labels, **(marker or {})}
    state = job_state(job)
    error = ""
    if job.error is not None and state is State.FAILED:
        error = ("cancelled" if job.state == "JOB_STATE_CANCELLED" else "") or job.error
    return RemoteModel(
        id=job.name,
        display_name=values.get("displayName", job.display_name),
        description=values.get("description", job.description),
        owner=owner_from(values),
        state=state,
        base_model=job.base_model,
        hyperparameters=job.hyperparameters,
        create_time=job.create_time.isoformat() if job.create_time else "",
        update_time=_later(job.update_time, values.get("updateTime", "")),
        total_steps=job.total_steps,
        endpoint=job.endpoint if state is State.ACTIVE else "",
        error=error,
    )


def _later(job_time: datetime | None, marker_time: str) -> str:
    """The later of the job's update time and the marker object's, as ISO 8601 UTC."""
    times = [job_time.astimezone(timezone.utc)] if job_time else []
    if marker_time:
        with contextlib.suppress(ValueError):  # a malformed marker time is ignored
            times.append(datetime.fromisoformat(marker_time).astimezone(timezone.utc))
    return max(times).isoformat(timespec="microseconds") if times else ""
