"""`tuning_job.from_json` reads every field it should, under the names google-genai's own
types give them: a job built from the SDK's typed fields (snake_case, so a misspelt REST name
in the reader shows as a missing value) and dumped by alias, as Vertex AI's REST answers are
named."""

from __future__ import annotations

from datetime import datetime, timezone

from google.genai import types

from gitops_tune.backends import Hyperparameters
from gitops_tune.providers.base import Checkpoint, DataStats, TrainingOptions
from gitops_tune.providers.tuning_evaluation import TuningEvaluationRun, TuningScore
from gitops_tune.providers.tuning_job import TuningJob, from_json

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def rest(job: types.TuningJob) -> dict[str, object]:
    dumped: dict[str, object] = job.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def test_a_supervised_job_reads_whole() -> None:
    spec = types.SupervisedTuningSpec(
        training_dataset_uri="gs://b/train.jsonl",
        validation_dataset_uri="gs://b/val.jsonl",
        export_last_checkpoint_only=True,
        hyper_parameters=types.SupervisedHyperParameters(
            epoch_count=3,
            learning_rate_multiplier=2,
            adapter_size=types.AdapterSize("ADAPTER_SIZE_FOUR"),
        ),
    )
    stats = types.SupervisedTuningDataStats(
        tuning_dataset_example_count=20, tuning_step_count=10, total_billable_token_count=560
    )
    run = types.EvaluateDatasetRun.model_validate(
        {
            "checkpointId": "2",
            "evaluateDatasetResponse": {
                "aggregationOutput": {
                    "aggregationResults": [
                        {"aggregationMetric": "AVERAGE", "bleuMetricValue": {"score": 0.25}}
                    ]
                },
                "outputInfo": {"gcsOutputDirectory": "gs://b/eval/2"},
            },
        }
    )
    job = types.TuningJob(
        name="projects/p/locations/l/tuningJobs/1",
        state=types.JobState.JOB_STATE_SUCCEEDED,
        labels={"a": "b"},
        tuned_model_display_name="shown",
        description="words",
        pre_tuned_model=types.PreTunedModel(
            tuned_model_name="projects/p/locations/l/models/9",
            checkpoint_id="4",
            base_model="gemini-2.5-flash",
        ),
        supervised_tuning_spec=spec,
        create_time=WHEN,
        update_time=WHEN,
        tuned_model=types.TunedModel(
            model="projects/p/locations/l/models/5@1",
            endpoint="projects/p/locations/l/endpoints/6",
            checkpoints=[
                types.TunedModelCheckpoint(checkpoint_id="1", epoch=1, step=5, endpoint="e1"),
                types.TunedModelCheckpoint(checkpoint_id="2", epoch=2, step=10),
            ],
        ),
        error=types.GoogleRpcStatus(code=3, message="late"),
        experiment="projects/p/locations/l/metadataStores/default/contexts/x",
        service_account="sa@p.iam.gserviceaccount.com",
        encryption_spec=types.EncryptionSpec(kms_key_name="projects/p/keys/k"),
        tuning_data_stats=types.TuningDataStats(supervised_tuning_data_stats=stats),
        evaluate_dataset_runs=[run],
    )
    assert from_json(rest(job)) == TuningJob(
        name="projects/p/locations/l/tuningJobs/1",
        state="JOB_STATE_SUCCEEDED",
        labels={"a": "b"},
        display_name="shown",
        description="words",
        base_model="gemini-2.5-flash",
        hyperparameters=Hyperparameters(
            epoch_count=3, learning_rate_multiplier=2.0, adapter_size="ADAPTER_SIZE_FOUR"
        ),
        create_time=WHEN,
        update_time=WHEN,
        total_steps=10,
        endpoint="projects/p/locations/l/endpoints/6",
        tuned_model="projects/p/locations/l/models/5@1",
        error="late",
        training_uri="gs://b/train.jsonl",
        validation_uri="gs://b/val.jsonl",
        experiment="projects/p/locations/l/metadataStores/default/contexts/x",
        options=TrainingOptions(
            pre_tuned_model="projects/p/locations/l/models/9",
            pre_tuned_checkpoint="4",
            export_last_checkpoint_only=True,
            service_account="sa@p.iam.gserviceaccount.com",
            kms_key_name="projects/p/keys/k",
        ),
        checkpoints=(Checkpoint("1", 1, 5, "e1"), Checkpoint("2", 2, 10, "")),
        checkpoint_endpoints=("e1",),
        billable_tokens=560,
        data_stats=DataStats("supervised", 20, 10, 560, None),
        evaluation_runs=(
            TuningEvaluationRun(
                "2", (TuningScore("2", "bleu", "AVERAGE", 0.25),), output="gs://b/eval/2"
            ),
        ),
    )


def test_rest_answers_carry_int64_as_strings_and_nanoseconds() -> None:
    answer = {
        "name": "projects/p/locations/l/tuningJobs/2",
        "state": "JOB_STATE_RUNNING",
        "baseModel": "gemini-2.5-flash",
        "createTime": "2026-01-02T03:04:05.678901234Z",
        "supervisedTuningSpec": {"hyperParameters": {"epochCount": "3"}},
        "tunedModel": {"checkpoints": [{"checkpointId": "1", "epoch": "1", "step": "5"}]},
    }
    job = from_json(answer)
    assert job.create_time == WHEN  # cut to microseconds, as google-genai's pydantic does
    assert job.hyperparameters == Hyperparameters(epoch_count=3)
    assert job.checkpoints == (Checkpoint("1", 1, 5, ""),)
    assert (job.error, job.update_time, job.options) == (None, None, TrainingOptions())
