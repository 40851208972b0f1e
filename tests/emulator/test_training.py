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
    assert training.total_steps(5, 2, 2) == 6
    assert training.total_steps(8, 4, 5) == 10
    assert training.total_steps(1, 4, 5) == 5


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
