"""Moving what earlier versions kept in a staging-bucket index onto Google's own resources.

Earlier versions kept one object per tuning job under ``gs://{bucket}/gitops-tune/jobs/``
whose custom metadata overrode the job's labels (display name, description, protection, the
update time, "retired"). Models made by those versions lack the ``gitops_tune_schema`` label
(which a job's labels give its Model from this version on);
while any of the workspace's models does, the index is listed once and its facts are written
onto each such model with ``models.patch`` (which adds the label), after which the index is
never read again. When the patch is refused (read-only credentials), the facts are used for
this run only and the next run tries again.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from gitops_tune.providers.base import ProviderError
from gitops_tune.providers.sdk_genai import TuningJob
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


def migrate(
    staging: StagingBucket,
    models: Models,
    jobs: list[TuningJob],
    found: dict[str, TunedModelInfo],
) -> list[str]:
    """Write the index's facts onto the models in ``found`` that predate this scheme (``found``
    is updated in place); the notices to show."""
    legacy = [
        j for j in jobs if model_name(j) in found and L_SCHEMA not in found[model_name(j)].labels
    ]
    if not legacy:
        return []
    index = staging.legacy_index()
    moved = kept = 0
    for job in legacy:
        model = found[model_name(job)]
        marker = index.get(job_id(job.name), {})
        fields = {
            "displayName": marker.get("displayName", model.display_name),
            "description": marker.get("description", model.description),
            "labels": legacy_labels(model, marker),
        }
        try:
            found[model.name] = TunedModelInfo.from_json(models.patch(model.name, fields))
            moved += 1
        except ProviderError:
            found[model.name] = replace(
                model,
                display_name=str(fields["displayName"]),
                description=str(fields["description"]),
                labels=legacy_labels(model, marker),
            )
            kept += 1
    where = f"gs://{staging.bucket}/gitops-tune/jobs/"
    notices = []
    if moved:
        notices.append(
            f"moved what {where} said about {moved} job(s) onto their tuned models; that "
            "index is no longer read and may be deleted"
        )
    if kept:
        notices.append(
            f"read {where} for {kept} job(s) but could not write it onto their models; "
            "the next run tries again"
        )
    return notices
