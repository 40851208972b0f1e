"""What a Vertex AI tuning job says of its own evaluation (``TuningJob.evaluateDatasetRuns``,
tuning_job.proto), read from plain data: each ``EvaluateDatasetRun`` with its checkpoint, the
scores of its ``evaluateDatasetResponse.aggregationOutput.aggregationResults`` or its
``error``, as proto3 JSON (camelCase)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TuningEvaluation:
    """An evaluation the tuning job runs itself (Vertex AI's ``EvaluationConfig``): metrics by
    manifest name (``exactMatch``, ``bleu``, ``rouge1``..``rouge9``, ``rougeL``,
    ``rougeLsum``) and the Cloud Storage folder its results go to."""

    metrics: tuple[str, ...]
    output_uri: str


@dataclass(frozen=True)
class TuningScore:
    """One aggregate of one metric in one evaluation run of a tuning job (Vertex AI's
    ``EvaluateDatasetRun``: ``aggregationOutput.aggregationResults[]``)."""

    checkpoint: str  # the checkpoint evaluated ("": the tuned model)
    metric: str  # exactMatch, bleu or rouge
    aggregation: str  # AVERAGE, STANDARD_DEVIATION, ...
    score: float


@dataclass(frozen=True)
class TuningEvaluationRun:
    """One ``EvaluateDatasetRun`` of a tuning job: its scores, or why it failed."""

    checkpoint: str
    scores: tuple[TuningScore, ...] = ()
    error: str = ""
    output: str = ""  # ``outputInfo.gcsOutputDirectory``


#: ``AggregationResult`` value fields and the metric each reports.
RESULT_FIELDS = (
    ("exactMatchMetricValue", "exactMatch"),
    ("bleuMetricValue", "bleu"),
    ("rougeMetricValue", "rouge"),
    ("pointwiseMetricResult", "pointwise"),
)


def runs_from(runs: Iterable[Mapping[str, Any]]) -> tuple[TuningEvaluationRun, ...]:
    return tuple(run_from(r) for r in runs)


def run_from(run: Mapping[str, Any]) -> TuningEvaluationRun:
    """One ``EvaluateDatasetRun``: a score per aggregation result, or the run's error."""
    checkpoint = str(run.get("checkpointId") or "")
    error = run.get("error")
    if isinstance(error, Mapping):
        return TuningEvaluationRun(checkpoint, error=str(error.get("message") or "failed"))
    response = run.get("evaluateDatasetResponse") or {}
    output = response.get("aggregationOutput") or {}
    scores = []
    for result in output.get("aggregationResults") or []:
        how = str(result.get("aggregationMetric") or "AVERAGE")
        for key, metric in RESULT_FIELDS:
            value = result.get(key)
            if isinstance(value, Mapping) and value.get("score") is not None:
                scores.append(TuningScore(checkpoint, metric, how, float(value["score"])))
    directory = str((response.get("outputInfo") or {}).get("gcsOutputDirectory") or "")
    return TuningEvaluationRun(checkpoint, tuple(scores), output=directory)


def summary(runs: Iterable[TuningEvaluationRun]) -> str:
    """One line: the last run's averages (the job's final checkpoint), e.g. ``exactMatch
    0.7500, rouge 0.8120 (checkpoint 3)``; errors as they are."""
    found = list(runs)
    if not found:
        return ""
    last = found[-1]
    at = f" (checkpoint {last.checkpoint})" if last.checkpoint else ""
    if last.error:
        return f"failed{at}: {last.error}"
    averages = [s for s in last.scores if s.aggregation == "AVERAGE"] or list(last.scores)
    return ", ".join(f"{s.metric} {s.score:.4f}" for s in averages) + at
