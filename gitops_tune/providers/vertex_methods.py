"""A tuning method's settings on Vertex AI, both ways, with no SDK: the keyword arguments of
google-genai's ``CreateTuningJobConfig`` a method's settings make, and what a ``TuningJob``
(as proto3 JSON) says it ran with: its method's spec, training data and data statistics.

google-genai 3.6 (``tunings._CreateTuningJobConfig_to_vertex``) puts each config field into
the spec of the method ``config.method`` names: ``beta`` into
``preferenceOptimizationSpec.hyperParameters``; ``reward_config`` and
``composite_reward_config`` into ``reinforcementTuningSpec.singleRewardConfig`` and
``.compositeRewardConfig``; ``samples_per_prompt``, ``evaluate_interval``,
``checkpoint_interval``, ``max_output_tokens`` and ``thinking_level`` into
``reinforcementTuningSpec.hyperParameters``; ``base_teacher_model`` and
``tuned_teacher_model_source`` into ``distillationSpec``; the training data into the method's
``trainingDatasetUri`` (``promptDatasetUri`` for distillation). The settings keep their REST
names in the manifest, so a job's echo reads back into the same settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gitops_tune.providers.base import DataStats

#: The TuningJob field holding each method's spec (v1beta1 TuningJob, google-genai TuningJob).
SPEC_FIELDS = {
    "supervised": "supervisedTuningSpec",
    "preference": "preferenceOptimizationSpec",
    "reinforcement": "reinforcementTuningSpec",
    "distillation": "distillationSpec",
}
#: Manifest setting -> CreateTuningJobConfig keyword (google-genai 3.6).
CONFIG_FIELDS = {
    "preference": {"beta": "beta"},
    "reinforcement": {
        "singleRewardConfig": "reward_config",
        "compositeRewardConfig": "composite_reward_config",
        "samplesPerPrompt": "samples_per_prompt",
        "evaluateInterval": "evaluate_interval",
        "checkpointInterval": "checkpoint_interval",
        "maxOutputTokens": "max_output_tokens",
        "thinkingLevel": "thinking_level",
    },
    "distillation": {
        "baseTeacherModel": "base_teacher_model",
        "tunedTeacherModelSource": "tuned_teacher_model_source",
    },
}
#: Where the job echoes each setting, under the method's spec.
_HYPER = ("beta", "samplesPerPrompt", "evaluateInterval", "checkpointInterval")
_HYPER_MORE = ("maxOutputTokens", "thinkingLevel")
_INT64 = frozenset(
    {"samplesPerPrompt", "evaluateInterval", "checkpointInterval", "maxOutputTokens"}
)


def config_fields(method: str, settings: str) -> dict[str, Any]:
    """The CreateTuningJobConfig keywords of a method ("" or "supervised": none, so a
    supervised request is exactly what it was before methods existed)."""
    if not method or method == "supervised":
        return {}
    # here, not at the top: a list (`commands.listing`) never pays for the manifest models
    from gitops_tune.manifest.methods import TUNING_METHOD

    given: Mapping[str, Any] = json.loads(settings)
    names = CONFIG_FIELDS.get(method, {})
    out: dict[str, Any] = {"method": TUNING_METHOD[method]}
    out |= {names[k]: v for k, v in given.items() if k in names}
    return out


def method_of(job: Mapping[str, Any]) -> tuple[str, str]:
    """(method, settings as canonical JSON) of a TuningJob in proto3 JSON; ("", "{}") for a
    supervised job."""
    for method, key in SPEC_FIELDS.items():
        spec = job.get(key)
        if method == "supervised" or not isinstance(spec, dict):
            continue
        return method, _dump(_settings(spec))
    return "", "{}"


def _settings(spec: Mapping[str, Any]) -> dict[str, Any]:
    hyper = spec.get("hyperParameters") or {}
    out: dict[str, Any] = {}
    for key in (*_HYPER, *_HYPER_MORE):
        if hyper.get(key) is not None:
            out[key] = int(hyper[key]) if key in _INT64 else hyper[key]
    for key in ("singleRewardConfig", "compositeRewardConfig"):
        if spec.get(key) is not None:
            out[key] = spec[key]
    for key in ("baseTeacherModel", "tunedTeacherModelSource"):
        if spec.get(key):
            out[key] = spec[key]
    return out


def _dump(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def method_spec(job: Mapping[str, Any]) -> Mapping[str, Any]:
    """The spec of a TuningJob's method (supervised, preference, reinforcement,
    distillation); empty when it has none."""
    return next((s for s in map(job.get, SPEC_FIELDS.values()) if isinstance(s, dict)), {})


def training_uri(spec: Mapping[str, Any]) -> str:
    """The spec's training data (a distillation spec's prompts); "" when none."""
    return str(spec.get("trainingDatasetUri") or spec.get("promptDatasetUri") or "")


#: The ``TuningDataStats`` field of each method's stats (v1beta1 ``TuningDataStats``).
_STATS = (
    ("supervised", "supervisedTuningDataStats"),
    ("preference", "preferenceOptimizationDataStats"),
    ("reinforcement", "reinforcementTuningDataStats"),
    ("distillation", "distillationDataStats"),
)


def data_stats(stats: Mapping[str, Any] | None) -> DataStats | None:
    """A ``TuningDataStats`` as `DataStats`, whichever method's stats it holds
    (distillation's are its ``trainingDatasetStats``, a ``DatasetStats`` as reinforcement's
    are); None when it holds none."""
    for method, name in _STATS:
        found = (stats or {}).get(name)
        if method == "distillation" and isinstance(found, dict):
            found = found.get("trainingDatasetStats")
        if not isinstance(found, dict):
            continue
        indices = found.get("droppedExampleIndices") or []
        reasons = found.get("droppedExampleReasons") or []
        return DataStats(
            method=method,
            examples=_int(found.get("tuningDatasetExampleCount")),
            steps=_int(found.get("tuningStepCount")),
            billable_tokens=_int(found.get("totalBillableTokenCount")),
            billable_characters=_int(found.get("totalBillableCharacterCount")),
            dropped=tuple(
                (int(i), str(reasons[k]) if k < len(reasons) else "") for k, i in enumerate(indices)
            ),
        )
    return None


def _int(value: object) -> int | None:
    return (
        int(value) if isinstance(value, (int, str)) and str(value).lstrip("-").isdigit() else None
    )
