"""A Vertex AI tuning job as plain records: what the SDK seam (`sdk_genai`) reads of one, and
what it is asked to create. No SDK types here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gitops_tune.backends import Hyperparameters
from gitops_tune.providers.base import (
    Checkpoint,
    DataStats,
    TrainingOptions,
)
from gitops_tune.providers.tuning_evaluation import TuningEvaluationRun


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
