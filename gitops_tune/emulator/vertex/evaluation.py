"""A tuning job's own evaluation: ``supervisedTuningSpec.evaluationConfig`` checked as
Google's types define it (tuning_job.proto ``EvaluationConfig``: ``metrics`` and
``outputConfig`` required; evaluation_service.proto ``Metric``: one spec of its ``metric_spec``
oneof, ``aggregationMetrics`` from its enum; ``RougeSpec.rougeType`` one of the documented
types), and the ``evaluateDatasetRuns`` a finished job reports: one ``EvaluateDatasetRun``
per checkpoint, its ``aggregationOutput`` one ``AggregationResult`` per metric and
aggregation.

The emulator computes the computation-based metrics (exact match, BLEU, ROUGE) on the job's
validation examples (else its training examples), each answered as the tuned model answers
``generateContent`` (`answers.answer_for`, nearest training example); every checkpoint answers
alike. Metrics that need a judge model (pointwise, pairwise, LLM-based, predefined, custom
code) are refused as unimplemented. Scores are approximations of Google's: BLEU is sentence
BLEU over whitespace tokens (up to 4-grams, smoothed); ROUGE is the F-measure over lower-cased
tokens (``rougeLsum`` computed as ``rougeL``).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitops_tune.emulator.api import ApiError, invalid, reject_unknown

PATH = "supervisedTuningSpec.evaluationConfig"
_CONFIG = ("metrics", "outputConfig", "autoraterConfig", "inferenceGenerationConfig")
COMPUTED = {"exactMatchSpec": "exactMatch", "bleuSpec": "bleu", "rougeSpec": "rouge"}
JUDGED = (
    "pointwiseMetricSpec",
    "pairwiseMetricSpec",
    "predefinedMetricSpec",
    "computationBasedMetricSpec",
    "llmBasedMetricSpec",
    "customCodeExecutionSpec",
)
ROUGE_TYPES = (*(f"rouge{n}" for n in range(1, 10)), "rougeL", "rougeLsum")
AGGREGATIONS = (
    "AVERAGE",
    "MODE",
    "STANDARD_DEVIATION",
    "VARIANCE",
    "MINIMUM",
    "MAXIMUM",
    "MEDIAN",
    "PERCENTILE_P90",
    "PERCENTILE_P95",
    "PERCENTILE_P99",
)
#: The result field each spec's aggregate goes into (``AggregationResult``).
RESULT = {
    "exactMatchSpec": "exactMatchMetricValue",
    "bleuSpec": "bleuMetricValue",
    "rougeSpec": "rougeMetricValue",
}


def _set(value: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a proto3 JSON parser sets: ``null`` ones are absent."""
    return {k: v for k, v in value.items() if v is not None}


def check(raw: object) -> dict[str, Any]:
    """The ``evaluationConfig`` as stored and echoed; a 400 for what the types refuse."""
    if not isinstance(raw, dict):
        raise invalid(f"{PATH} must be an object.")
    config = _set(raw)
    reject_unknown(config, _CONFIG, "tuning_job.supervised_tuning_spec.evaluation_config")
    metrics = config.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise invalid(f"{PATH}.metrics is required: at least one metric.")
    out: dict[str, Any] = {
        "metrics": [_metric(m, f"{PATH}.metrics[{i}]") for i, m in enumerate(metrics)]
    }
    out["outputConfig"] = _output(config.get("outputConfig"))
    for name in ("autoraterConfig", "inferenceGenerationConfig"):
        if config.get(name) is not None:
            out[name] = config[name]
    return out


def _metric(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise invalid(f"{where} must be an object.")
    metric = _set(raw)
    reject_unknown(metric, (*COMPUTED, *JUDGED, "aggregationMetrics", "metadata"), where)
    specs = [k for k in (*COMPUTED, *JUDGED) if k in metric]
    if len(specs) != 1:
        raise invalid(f"{where} must set exactly one metric spec (got {len(specs)}).")
    if specs[0] in JUDGED:
        raise ApiError(
            501,
            f"{where}.{specs[0]}: the emulator computes exactMatchSpec, bleuSpec and rougeSpec "
            "only (this metric needs a judge model).",
            "UNIMPLEMENTED",
        )
    aggregations = metric.get("aggregationMetrics") or []
    for a in aggregations if isinstance(aggregations, list) else [aggregations]:
        if a not in AGGREGATIONS:
            raise invalid(f"{where}.aggregationMetrics: {a!r} is not one of the enum's values.")
    spec = metric[specs[0]]
    if not isinstance(spec, dict):
        raise invalid(f"{where}.{specs[0]} must be an object.")
    spec = _set(spec)
    rouge = spec.get("rougeType")
    if specs[0] == "rougeSpec" and rouge is not None and rouge not in ROUGE_TYPES:
        raise invalid(
            f"{where}.rougeSpec.rougeType: {rouge!r} is not supported; supported rouge types "
            "are rougen[1-9], rougeL, and rougeLsum."
        )
    return {**metric, specs[0]: spec, "aggregationMetrics": list(aggregations) or ["AVERAGE"]}


def _output(raw: object) -> dict[str, Any]:
    where = f"{PATH}.outputConfig"
    if not isinstance(raw, dict):
        raise invalid(f"{where} is required.")
    reject_unknown(_set(raw), ("gcsDestination",), where)
    gcs = raw.get("gcsDestination")
    prefix = gcs.get("outputUriPrefix") if isinstance(gcs, dict) else None
    if not isinstance(prefix, str) or not prefix.startswith("gs://") or len(prefix) <= 5:
        raise invalid(f"{where}.gcsDestination.outputUriPrefix must be a gs:// URI.")
    return {"gcsDestination": {"outputUriPrefix": prefix}}


# -- the runs of a finished job ----------------------------------------------------------------


def runs(
    config: Mapping[str, Any],
    cases: Sequence[tuple[str, str]],
    answer: Callable[[str], str],
    checkpoints: Sequence[str],
    parent: str,
    job_id: str,
    dataset_uri: str,
) -> list[dict[str, Any]]:
    """``evaluateDatasetRuns``: ``cases`` are (prompt, expected answer)."""
    answered = [(answer(prompt), expected) for prompt, expected in cases]
    results = []
    for metric in config["metrics"]:
        kind = next(k for k in COMPUTED if k in metric)
        values = [_score(kind, metric[kind], got, want) for got, want in answered]
        for how in metric["aggregationMetrics"]:
            results.append(
                {"aggregationMetric": how, RESULT[kind]: {"score": _aggregate(how, values)}}
            )
    prefix = config["outputConfig"]["gcsDestination"]["outputUriPrefix"].rstrip("/")
    out = []
    for i, checkpoint in enumerate(checkpoints or [""], 1):
        run: dict[str, Any] = {"evaluationRun": f"{parent}/evaluationRuns/{job_id}{i:03d}"}
        if checkpoint:
            run["checkpointId"] = checkpoint
        run["evaluateDatasetResponse"] = {
            "aggregationOutput": {
                "dataset": {"gcsSource": {"uris": [dataset_uri]}},
                "aggregationResults": results,
            },
            "outputInfo": {"gcsOutputDirectory": f"{prefix}/{job_id}/{checkpoint or 'model'}"},
        }
        out.append(run)
    return out


def _tokens(text: str) -> list[str]:
    return text.lower().split()


def _score(kind: str, spec: Mapping[str, Any], got: str, want: str) -> float:
    if kind == "exactMatchSpec":
        return 1.0 if got == want else 0.0
    if kind == "bleuSpec":
        return bleu(got.split(), want.split())
    rouge_type = str(spec.get("rougeType") or "rougeL")
    return rouge(rouge_type, _tokens(got), _tokens(want))


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu(candidate: Sequence[str], reference: Sequence[str]) -> float:
    """Sentence BLEU up to 4-grams, smoothed (an n-gram order with no match counts 0.1)."""
    if not candidate or not reference:
        return 0.0
    log_sum = 0.0
    for n in range(1, 5):
        got, want = _ngrams(candidate, n), _ngrams(reference, n)
        total = max(1, sum(got.values()))
        matched = sum(min(c, want[g]) for g, c in got.items())
        log_sum += math.log((matched or 0.1) / total)
    penalty = min(1.0, math.exp(1 - len(reference) / len(candidate)))
    return penalty * math.exp(log_sum / 4)


def _f1(matched: int, got: int, want: int) -> float:
    if not matched:
        return 0.0
    precision, recall = matched / got, matched / want
    return 2 * precision * recall / (precision + recall)


def rouge(rouge_type: str, candidate: Sequence[str], reference: Sequence[str]) -> float:
    """ROUGE-N or ROUGE-L F-measure."""
    if rouge_type.startswith("rougeL"):
        return _f1(_lcs(candidate, reference), len(candidate), len(reference))
    n = int(rouge_type[5:])
    got, want = _ngrams(candidate, n), _ngrams(reference, n)
    matched = sum(min(c, want[g]) for g, c in got.items())
    return _f1(matched, sum(got.values()), sum(want.values()))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], previous + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def _aggregate(how: str, values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    if how.startswith("PERCENTILE_P"):
        rank = max(1, -(-int(how[12:]) * len(ordered) // 100))
        return ordered[rank - 1]
    table: dict[str, Callable[[Sequence[float]], float]] = {
        "AVERAGE": statistics.fmean,
        "MODE": statistics.mode,
        "STANDARD_DEVIATION": statistics.pstdev,
        "VARIANCE": statistics.pvariance,
        "MINIMUM": min,
        "MAXIMUM": max,
        "MEDIAN": statistics.median,
    }
    return round(float(table[how](ordered)), 6)
