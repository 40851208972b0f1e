"""The tuning methods beyond supervised tuning, as the Vertex AI dialect takes them: which spec
of a ``TuningJob`` a create sets (``preferenceOptimizationSpec``, ``reinforcementTuningSpec``,
``distillationSpec``; v1beta1 TuningJob, google-genai's ``TuningJob``), the fields each spec
has, whether the base model is offered the method (the catalog's ``vertex.methods``), each
method's dataset rows, its hyperparameters as the job echoes them, and its data stats
(``preferenceOptimizationDataStats``, ``reinforcementTuningDataStats``,
``distillationDataStats`` in ``TuningDataStats``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_tune.emulator.api import invalid, positive_int, proto_number, reject_unknown

SPECS = {
    "supervisedTuningSpec": "supervised",
    "preferenceOptimizationSpec": "preference",
    "reinforcementTuningSpec": "reinforcement",
    "distillationSpec": "distillation",
}
SPEC_OF = {method: key for key, method in SPECS.items()}
_COMMON = ("epochCount", "learningRateMultiplier", "adapterSize")
FIELDS: Mapping[str, tuple[str, ...]] = {
    "preference": (
        "trainingDatasetUri",
        "validationDatasetUri",
        "hyperParameters",
        "exportLastCheckpointOnly",
    ),
    "reinforcement": (
        "trainingDatasetUri",
        "validationDatasetUri",
        "hyperParameters",
        "singleRewardConfig",
        "compositeRewardConfig",
    ),
    "distillation": (
        "promptDatasetUri",
        "validationDatasetUri",
        "hyperParameters",
        "baseTeacherModel",
        "tunedTeacherModelSource",
        "exportLastCheckpointOnly",
    ),
}
#: Each method's own hyperparameters (beyond epochCount, learningRateMultiplier, adapterSize).
HYPER: Mapping[str, tuple[str, ...]] = {
    "supervised": (),
    "preference": ("beta",),
    "reinforcement": (
        "samplesPerPrompt",
        "batchSize",
        "evaluateInterval",
        "checkpointInterval",
        "maxOutputTokens",
        "thinkingLevel",
        "thinkingBudget",
        "stepCount",
    ),
    "distillation": (),
}
#: int64 fields travel as strings in proto3 JSON; the others are int32 (v1beta1 discovery doc)
_INT64 = frozenset({"stepCount"})
THINKING_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
_SCORERS = (
    "stringMatchRewardScorer",
    "codeExecutionRewardScorer",
    "cloudRunRewardScorer",
    "autoraterScorer",
)


def spec_of(body: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(method, the spec's key, the spec) of a create body: exactly one spec."""
    given = [k for k in SPECS if body.get(k) is not None]
    if len(given) != 1:
        raise invalid(f"Exactly one of {', '.join(SPECS)} must be set.")
    key = given[0]
    spec = body[key]
    if not isinstance(spec, dict):
        raise invalid(f"{key} must be an object.")
    method = SPECS[key]
    if method != "supervised":
        reject_unknown(spec, FIELDS[method], f"tuning_job.{key}")
    return method, key, spec


def check_offered(method: str, base: str, offered: Mapping[str, Sequence[str]]) -> None:
    """A base model not offered the method is refused, naming those that are."""
    if method == "supervised" or not base:
        return
    models = tuple(offered.get(method, ()))
    if base not in models:
        some = ", ".join(models) if models else "none"
        raise invalid(f"Base model {base} does not support {method} tuning. Supported: {some}.")


def split_hyper(method: str, spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the common hyperparameters, the method's own ones, checked and echoed)."""
    raw = spec.get("hyperParameters") or {}
    if not isinstance(raw, dict):
        raise invalid(f"{SPEC_OF[method]}.hyperParameters must be an object.")
    path = f"{SPEC_OF[method]}.hyperParameters"
    reject_unknown(raw, (*_COMMON, *HYPER[method]), f"tuning_job.{path}")
    own: dict[str, Any] = {}
    for key in HYPER[method]:
        value = raw.get(key)
        if value is None:
            continue
        if key == "beta":
            number = proto_number(value)
            if number is None:
                raise invalid(f"{path}.beta must be a number.")
            own[key] = number
        elif key == "thinkingLevel":
            if value not in THINKING_LEVELS:
                raise invalid(f"{path}.thinkingLevel must be one of {', '.join(THINKING_LEVELS)}.")
            own[key] = value
        else:
            number = positive_int(value, f"{path}.{key}")
            own[key] = str(number) if key in _INT64 else number
    return {k: raw[k] for k in _COMMON if k in raw}, own


def extras(method: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's settings beyond data and hyperparameters, checked the way the service
    refuses a job that cannot run: a reward config for reinforcement, a teacher for
    distillation."""
    if method == "reinforcement":
        return {"reward": _reward(spec)}
    if method == "distillation":
        teachers = [k for k in ("baseTeacherModel", "tunedTeacherModelSource") if spec.get(k)]
        if len(teachers) != 1:
            raise invalid(
                "distillationSpec: exactly one of baseTeacherModel or tunedTeacherModelSource "
                "is required."
            )
        return {"teacher": {teachers[0]: spec[teachers[0]]}}
    return {}


def _reward(spec: Mapping[str, Any]) -> dict[str, Any]:
    given = [k for k in ("singleRewardConfig", "compositeRewardConfig") if spec.get(k)]
    if len(given) != 1:
        raise invalid(
            "reinforcementTuningSpec: exactly one of singleRewardConfig or "
            "compositeRewardConfig is required."
        )
    key = given[0]
    if key == "singleRewardConfig":
        _single(spec[key], f"reinforcementTuningSpec.{key}")
    else:
        weighted = spec[key].get("weightedRewardConfigs") if isinstance(spec[key], dict) else None
        if not isinstance(weighted, list) or not weighted:
            raise invalid(f"reinforcementTuningSpec.{key}.weightedRewardConfigs is required.")
        for i, item in enumerate(weighted):
            where = f"reinforcementTuningSpec.{key}.weightedRewardConfigs[{i}]"
            if not isinstance(item, dict) or (proto_number(item.get("weight")) or 0) <= 0:
                raise invalid(f"{where}.weight must be a positive number.")
            _single(item.get("rewardConfig"), f"{where}.rewardConfig")
    return {key: spec[key]}


def _single(config: object, where: str) -> None:
    if not isinstance(config, dict):
        raise invalid(f"{where} must be an object.")
    scorers = [k for k in _SCORERS if config.get(k) is not None]
    if len(scorers) != 1:
        raise invalid(f"{where}: exactly one of {', '.join(_SCORERS)} is required.")


# -- the data ----------------------------------------------------------------------------------


def json_row(line: str, where: str) -> dict[str, Any]:
    """One JSONL line of a dataset object: a JSON object, or refused."""
    try:
        row = json.loads(line)
    except ValueError:
        raise invalid(f"{where}: not valid JSON.") from None
    if not isinstance(row, dict):
        raise invalid(f"{where}: each line must be a JSON object.")
    return row


def count_rows(method: str, data: bytes, uri: str, path: str) -> tuple[int, int]:
    """Check a method's JSONL object; (rows, text characters)."""

    count = chars = 0
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{uri} line {number}"
        chars += _row_chars(method, json_row(line, where), where)
        count += 1
    if count == 0:
        raise invalid(f"{path}: {uri} holds no examples.")
    return count, chars


def _text(content: object) -> int:
    parts = content.get("parts") if isinstance(content, dict) else None
    return sum(len(str(p.get("text", ""))) for p in parts or [] if isinstance(p, dict))


def _row_chars(method: str, row: Mapping[str, Any], where: str) -> int:
    contents = row.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid(f"{where}: contents must hold at least one user turn.")
    last = contents[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise invalid(f"{where}: the last turn of a prompt must be the user's.")
    chars = sum(_text(c) for c in contents) + _text(row.get("systemInstruction"))
    if method == "preference":
        completions = row.get("completions")
        scores = sorted(c.get("score", -1) for c in completions or [] if isinstance(c, dict))
        if not isinstance(completions, list) or scores != [0, 1]:
            raise invalid(
                f"{where}: completions must be one preferred (1) and one dispreferred (0)."
            )
        chars += sum(_text(c.get("completion")) for c in completions)
    return chars


def data_stats(method: str, count: int, chars: int, epochs: int, steps: int) -> dict[str, Any]:
    """``tuningDataStats`` of a method's job (int64 as strings, proto3 JSON)."""
    tokens = -(-chars // 4)
    if method == "preference":
        stats = {
            "tuningDatasetExampleCount": str(count),
            "totalBillableTokenCount": str(tokens * epochs),
            "tuningStepCount": str(steps),
        }
        return {"preferenceOptimizationDataStats": stats}
    dataset = {
        "tuningDatasetExampleCount": str(count),
        "totalTuningCharacterCount": str(chars),
        "totalBillableCharacterCount": str(chars * epochs),
        "tuningStepCount": str(steps),
    }
    if method == "distillation":
        return {"distillationDataStats": {"trainingDatasetStats": dataset}}
    return {"reinforcementTuningDataStats": dataset}


def spec_json(doc: Mapping[str, Any], spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The method's spec as the job echoes it, from the supervised-shaped ``spec``."""
    method = doc.get("method", "supervised")
    if method == "supervised":
        return SPEC_OF[method], spec
    spec = dict(spec)
    if method == "distillation":
        spec["promptDatasetUri"] = spec.pop("trainingDatasetUri")
    if method == "reinforcement":
        spec.pop("exportLastCheckpointOnly", None)
    spec["hyperParameters"] = {**spec["hyperParameters"], **doc.get("method_hyper", {})}
    extra = doc.get("method_extra", {})
    return SPEC_OF[method], {**spec, **extra.get("reward", {}), **extra.get("teacher", {})}
