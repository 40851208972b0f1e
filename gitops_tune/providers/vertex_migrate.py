"""Moving what earlier versions kept in a staging-bucket index onto Google's own resources.

Earlier versions kept one object per tuning job under ``gs://{bucket}/gitops-tune/jobs/``
whose custom metadata overrode the job's labels (display name, description, protection, the
update time, "retired"). Models made by those versions lack the ``gitops_tune_schema`` label
(which a job's labels give its Model from this version on);
while any of the workspace's models does, each listing reads the index once and uses its facts;
the plan announces the move (`Pending.migration`), and apply writes the facts onto each such
model with ``models.patch`` (which adds the label), after which the index is never read again.
When the patch is refused (read-only credentials), the facts are used for that run only and
the next apply tries again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from gitops_tune.providers.base import Migration, ProviderError
from gitops_tune.providers.tuning_job import TuningJob
from gitops_tune.providers.vertex_bucket import LEGACY_INDEX
from gitops_tune.providers.vertex_jobs import (
    L_FP1,
    L_FP2,
    L_NAME,
    L_PROTECT,
    L_RETIRED,
    L_SCHEMA,
    L_UPDATED,
    L_WORKSPACE,
    SCHEMA,
    TunedModelInfo,
    job_id,
    model_name,
)

if TYPE_CHECKING:
    from gitops_tune.providers.vertex_bucket import StagingBucket
    from gitops_tune.providers.vertex_models import Models

_OWNER_KEYS = (L_WORKSPACE, L_NAME, L_FP1, L_FP2, L_PROTECT)


def legacy_labels(model: TunedModelInfo, marker: dict[str, str]) -> dict[str, str]:
    """The model's labels with what the index said about its job."""
    labels = {**model.labels, **{k: marker[k] for k in _OWNER_KEYS if marker.get(k)}}
    labels[L_SCHEMA] = SCHEMA
    if marker.get("retired") == "true":
        labels[L_RETIRED] = "true"
    with contextlib.suppress(ValueError, KeyError):
        when = datetime.fromisoformat(marker["updateTime"]).astimezone(timezone.utc)
        labels[L_UPDATED] = str(int(when.timestamp() * 1_000_000))
    return labels


@dataclass(frozen=True)
class Pending:
    """What the index said, not yet written: job name -> (its Model, the ``models.patch``)."""

    source: str  # gs://{bucket}/gitops-tune/jobs/
    patches: Mapping[str, tuple[str, Mapping[str, Any]]]

    def migration(self) -> Migration:
        return Migration(self.source, tuple(sorted(self.patches)))


def read(
    staging: StagingBucket, jobs: list[TuningJob], found: dict[str, TunedModelInfo]
) -> Pending | None:
    """The index's facts about the models in ``found`` that predate this scheme, used at once
    (``found`` is updated in place) but written by `write` only: a plan writes nothing."""
    legacy = [
        j for j in jobs if model_name(j) in found and L_SCHEMA not in found[model_name(j)].labels
    ]
    if not legacy:
        return None
    index = staging.legacy_index()
    patches: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for job in legacy:
        model = found[model_name(job)]
        marker = index.get(job_id(job.name), {})
        labels = legacy_labels(model, marker)
        display = marker.get("displayName", model.display_name)
        description = marker.get("description", model.description)
        found[model.name] = replace(
            model, display_name=display, description=description, labels=labels
        )
        fields = {"displayName": display, "description": description, "labels": labels}
        patches[job.name] = (model.name, fields)
    return Pending(f"gs://{staging.bucket}/{LEGACY_INDEX}", patches)


def dump(pending: Pending | None) -> dict[str, Any] | None:
    """``pending`` as plain data (lists and dictionaries: msgpack carries it between
    processes); `load` gives it back."""
    if pending is None:
        return None
    return {"source": pending.source, "patches": {k: list(v) for k, v in pending.patches.items()}}


def load(state: Any) -> Pending | None:
    """The `Pending` that `dump` made ``state`` of; None for anything else."""
    try:
        patches = {
            str(job): (str(model), dict(fields))
            for job, (model, fields) in state["patches"].items()
        }
        return Pending(str(state["source"]), patches)
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


def write(models: Models, pending: Pending) -> list[str]:
    """Write the pending facts onto the models (``models.patch``); the notices to show."""
    moved = kept = 0
    for name, fields in pending.patches.values():
        try:
            models.patch(name, fields)
            moved += 1
        except ProviderError:
            kept += 1
    notices = []
    if moved:
        notices.append(
            f"moved what {pending.source} said about {moved} job(s) onto their tuned models; "
            "that index is no longer read and may be deleted"
        )
    if kept:
        notices.append(
            f"read {pending.source} for {kept} job(s) but could not write it onto their "
            "models; the next apply tries again"
        )
    return notices
