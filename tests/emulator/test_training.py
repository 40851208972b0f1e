"""The pure training simulation."""

from __future__ import annotations

import itertools

from gitops_tune.emulator import training
from gitops_tune.emulator.training import Job, progress, snapshots

EXAMPLES = [("1", "2"), ("3", "4"), ("5", "6")]


def job(**overrides: object) -> Job:
    fields: dict[str, object] = {
        "start": 1000.0,
        "train_seconds": 10.0,
        "steps": 20,
        "steps_per_epoch": 4,
        "seed": training.data_seed(EXAMPLES),
    }
    fields.update(overrides)
    return Job(**fields)  # type: ignore[arg-type]


def test_total_steps() -> None:
    """ceil(examples x epochs / batchSize), as Google's recorded tutorial run reports."""
    assert training.total_steps(15, 2, 5) == 38
    assert training.total_steps(15, 4, 5) == 19
    assert training.total_steps(5, 2, 2) == 5
    assert training.total_steps(8, 4, 5) == 10
    assert training.total_steps(1, 4, 5) == 2


def test_epochs_of_steps_that_span_an_epoch_boundary() -> None:
    """15 examples in batches of 2: step 8 holds examples 15 and 16 (the first of epoch 2)."""
    per_epoch = training.steps_per_epoch(15, 2)
    j = job(steps=38, steps_per_epoch=per_epoch, epochs=5)
    epochs = [s.epoch for s in training.snapshots(j, 38)]
    assert epochs[6:9] == [1, 2, 2] and epochs[-1] == 5
    assert epochs.count(1) == 7


def test_states_over_time() -> None:
    j = job()
    assert progress(j, 1000.0).state == "CREATING"
    assert progress(j, 1005.0).completed_steps == 10
    done = progress(j, 1010.0)
    assert (done.state, done.completed_steps, done.complete_time) == ("ACTIVE", 20, 1010.0)
    assert progress(j, 99999.0).complete_time == 1010.0


def test_a_failing_job_stops_halfway() -> None:
    j = job(fail=True)
    assert progress(j, 1004.9).state == "CREATING"
    failed = progress(j, 1005.0)
    assert (failed.state, failed.completed_steps, failed.complete_time) == ("FAILED", 10, 1005.0)
    assert failed.error and training.FAIL_WORD in failed.error


def test_a_cancelled_job_stops_at_its_cancel_time() -> None:
    j = job(cancel_time=1002.5)
    assert progress(j, 1002.0).state == "CREATING"
    stopped = progress(j, 1002.5)
    assert (stopped.state, stopped.completed_steps, stopped.cancelled) == ("FAILED", 5, True)
    assert progress(j, 5000.0).complete_time == 1002.5


def test_loss_falls_then_plateaus_deterministically() -> None:
    j = job(steps=200, steps_per_epoch=40)
    losses = [s.mean_loss for s in snapshots(j, 200)]
    assert losses == [s.mean_loss for s in snapshots(j, 200)]
    assert losses[0] > 1.5 and losses[-1] < 0.2
    assert all(a > b for a, b in itertools.pairwise(losses[:60]))  # falling
    tail = losses[150:]
    assert max(tail) - min(tail) < 0.01  # plateau
    other = job(steps=200, steps_per_epoch=40, seed=training.data_seed([("a", "b")]))
    assert [s.mean_loss for s in snapshots(other, 200)] != losses


def test_snapshot_epochs_are_one_based() -> None:
    snaps = snapshots(job(), 9)
    assert [s.epoch for s in snaps] == [1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert snaps[-1].compute_time == 1000.0 + 10.0 * 9 / 20


def test_rfc3339() -> None:
    assert training.rfc3339(0.5) == "1970-01-01T00:00:00.500000Z"


def test_encoded_tuned_models_match_their_json() -> None:
    """The list's encoded models (kept once a job has ended) say exactly what
    `tuned_model_json` says, while training, when done, failed, cancelled and edited, from the
    memo and from the store."""
    import json

    from gitops_tune.emulator.gemini import resources
    from gitops_tune.emulator.gemini.finished import Finished
    from gitops_tune.emulator.store import ModelRecord, Store

    base = ModelRecord(
        id="m",
        display_name="m",
        description="",
        base_model="models/b",
        hyperparameters={"epochCount": 2, "batchSize": 2, "learningRate": 0.001},
        sampling={"temperature": 1.0},
        create_time=1000.0,
        update_time=1000.0,
        train_seconds=10.0,
        total_steps=10,
        steps_per_epoch=5.0,
        example_count=10,
        data_seed=7,
        fail=False,
        operation_id="op",
        readers=("12",),
    )
    from dataclasses import replace

    store = Store()
    store.insert(base, [])
    for rec, now in [
        (base, 1000.0),  # no step yet
        (base, 1004.5),  # training
        (base, 1011.0),  # done
        (base, 1011.0),  # done, from the memo
        (replace(base, fail=True), 1100.0),
        (replace(base, cancel_time=1003.0), 1100.0),
        (replace(base, update_time=1050.0, description="edited"), 1100.0),
    ]:
        for finished in (Finished(store.kept), Finished(store.kept)):  # the 2nd: the store's
            page = finished.for_page([rec])
            assert json.loads(page.text(rec, now)) == resources.tuned_model_json(rec, now)
            page.save()
    store.close()
