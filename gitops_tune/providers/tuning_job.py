"""A Vertex AI tuning job as plain records: what the SDK seam (`sdk_genai`) reads of one
(`from_json`: a ``TuningJob`` as proto3 JSON), and what it is asked to create. No SDK types
here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from gitops_tune.backends import Hyperparameters
from gitops_tune.providers.base import (
    Checkpoint,
    DataStats,
    TrainingOptions,
)
from gitops_tune.providers.tuning_evaluation import TuningEvaluationRun, runs_from
from gitops_tune.providers.vertex_methods import data_stats, method_of, method_spec, training_uri


@dataclass(frozen=True)
class TuningJob:
    """A Vertex AI tuning job as plain data (what the Vertex provider reads of it)."""

    name: str
    state: str  # the JobState name, e.g. "JOB_STATE_RUNNING"; "" when absent
    labels: Mapping[str, str]
    display_name: str
    description: str
    base_model: str
    hyperparameters: Hyperparameters
    create_time: datetime | None
    update_time: datetime | None
    total_steps: int | None
    endpoint: str  # the tuned model's endpoint, "" when none
    tuned_model: str  # the tuned model's resource name (with "@version"), "" when none
    error: str | None  # the job's error message; None when it has no error
    training_uri: str = ""  # supervisedTuningSpec.trainingDatasetUri
    validation_uri: str = ""
    experiment: str = ""  # the Vertex AI Experiment (metadata Context) holding its metrics
    options: TrainingOptions = field(default_factory=TrainingOptions)  # as the job echoes them
    checkpoints: tuple[Checkpoint, ...] = ()  # tunedModel.checkpoints, by epoch
    checkpoint_endpoints: tuple[str, ...] = ()  # where checkpoints were deployed
    billable_tokens: int | None = None  # tuningDataStats...totalBillableTokenCount
    data_stats: DataStats | None = None  # tuningDataStats, whichever method's
    evaluation_runs: tuple[TuningEvaluationRun, ...] = ()  # evaluateDatasetRuns


@dataclass(frozen=True)
class TuneRequest:
    """A tuning job to create (its method in ``options``); None leaves a setting to Vertex
    AI's default."""

    base_model: str
    training_uri: str
    display_name: str
    labels: Mapping[str, str]
    description: str | None = None
    validation_uri: str | None = None
    epoch_count: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: str | None = None
    options: TrainingOptions = field(default_factory=TrainingOptions)


def from_json(job: Mapping[str, Any]) -> TuningJob:
    """A v1beta1 ``TuningJob`` as proto3 JSON (camelCase; int64 as strings or numbers; times
    in RFC 3339), as Vertex AI answers it or as google-genai dumps its own by alias."""
    tuned: Mapping[str, Any] = job.get("tunedModel") or {}
    pre: Mapping[str, Any] = job.get("preTunedModel") or {}
    spec = method_spec(job)
    stats = data_stats(job.get("tuningDataStats"))
    checkpoints = tuned.get("checkpoints") or []
    error = job.get("error")
    return TuningJob(
        name=str(job.get("name") or ""),
        state=str(job.get("state") or ""),
        labels=dict(job.get("labels") or {}),
        display_name=str(job.get("tunedModelDisplayName") or ""),
        description=str(job.get("description") or ""),
        base_model=str(job.get("baseModel") or pre.get("baseModel") or ""),
        hyperparameters=_hyperparameters(spec.get("hyperParameters") or {}),
        create_time=_time(job.get("createTime")),
        update_time=_time(job.get("updateTime")),
        total_steps=stats.steps if stats is not None else None,
        endpoint=str(tuned.get("endpoint") or ""),
        tuned_model=str(tuned.get("model") or ""),
        error=None if error is None else str(error.get("message") or ""),
        training_uri=training_uri(spec),
        validation_uri=str(spec.get("validationDatasetUri") or ""),
        experiment=str(job.get("experiment") or ""),
        options=_options(job, pre, spec),
        checkpoints=tuple(
            Checkpoint(
                str(c.get("checkpointId") or ""),
                _count(c, "epoch"),
                _count(c, "step"),
                str(c.get("endpoint") or ""),
            )
            for c in checkpoints
        ),
        checkpoint_endpoints=tuple(str(c["endpoint"]) for c in checkpoints if c.get("endpoint")),
        billable_tokens=stats.billable_tokens if stats is not None else None,
        data_stats=stats,
        evaluation_runs=runs_from(job.get("evaluateDatasetRuns") or []),
    )


def _options(
    job: Mapping[str, Any], pre: Mapping[str, Any], spec: Mapping[str, Any]
) -> TrainingOptions:
    method, settings = method_of(job)
    return TrainingOptions(
        pre_tuned_model=str(pre.get("tunedModelName") or ""),
        pre_tuned_checkpoint=str(pre.get("checkpointId") or ""),
        export_last_checkpoint_only=bool(spec.get("exportLastCheckpointOnly", False)),
        service_account=str(job.get("serviceAccount") or ""),
        kms_key_name=str((job.get("encryptionSpec") or {}).get("kmsKeyName") or ""),
        method=method,
        method_settings=settings,
    )


def _hyperparameters(h: Mapping[str, Any]) -> Hyperparameters:
    keys = ("epochCount", "learningRateMultiplier", "adapterSize")
    epochs, multiplier, adapter = map(h.get, keys)
    return Hyperparameters(
        epoch_count=int(epochs) if epochs is not None else None,
        learning_rate_multiplier=float(multiplier) if multiplier is not None else None,
        adapter_size=str(adapter) if adapter is not None else None,
    )


def _count(item: Mapping[str, Any], key: str) -> int:
    return int(item.get(key) or 0)


def _time(value: object) -> datetime | None:
    """RFC 3339 to microseconds, further digits cut off (as google-genai's pydantic does)."""
    if not value:
        return None
    text = str(value)
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    return msgspec.convert(text, datetime)
