"""What each method's tuning job reports of its data: google-genai's own types, dumped as the
proto3 JSON the provider reads (by alias, as Vertex AI's REST answers name the fields)."""

from __future__ import annotations

from typing import Any

from google.genai import types

from gitops_tune.providers.base import DataStats
from gitops_tune.providers.vertex_methods import data_stats as read


def data_stats(stats: types.TuningDataStats | None) -> DataStats | None:
    rest: Any = stats.model_dump(mode="json", by_alias=True, exclude_none=True) if stats else None
    return read(rest)


def test_supervised_and_preference_stats_bill_tokens() -> None:
    sft = types.TuningDataStats(
        supervised_tuning_data_stats=types.SupervisedTuningDataStats(
            tuning_dataset_example_count=20, tuning_step_count=10, total_billable_token_count=560
        )
    )
    assert data_stats(sft) == DataStats("supervised", 20, 10, 560, None)
    pref = types.TuningDataStats.model_validate(
        {
            "preferenceOptimizationDataStats": {
                "tuningDatasetExampleCount": "20",
                "tuningStepCount": "6",
                "totalBillableTokenCount": "540",
                "droppedExampleIndices": ["3", "7"],
                "droppedExampleReasons": ["no preferred completion", "too long"],
            }
        }
    )
    found = data_stats(pref)
    assert found == DataStats(
        "preference", 20, 6, 540, None, ((3, "no preferred completion"), (7, "too long"))
    )
    assert found.summary() == "20 examples, 6 steps, 2 dropped (example 3: no preferred completion)"
    assert found.to_json()["dropped"] == [
        {"example": 3, "reason": "no preferred completion"},
        {"example": 7, "reason": "too long"},
    ]


def test_reinforcement_and_distillation_stats_bill_characters() -> None:
    dataset = types.DatasetStats(
        tuning_dataset_example_count=12, tuning_step_count=4, total_billable_character_count=9000
    )
    rl = data_stats(types.TuningDataStats(reinforcement_tuning_data_stats=dataset))
    assert rl == DataStats("reinforcement", 12, 4, None, 9000)
    assert rl.summary() == "12 examples, 4 steps, 9,000 characters billed"
    distilled = types.TuningDataStats(
        distillation_data_stats=types.DistillationDataStats(training_dataset_stats=dataset)
    )
    assert data_stats(distilled) == DataStats("distillation", 12, 4, None, 9000)


def test_no_stats_is_none() -> None:
    assert data_stats(None) is None
    assert data_stats(types.TuningDataStats()) is None
    empty = data_stats(types.TuningDataStats(distillation_data_stats=types.DistillationDataStats()))
    assert empty is None
