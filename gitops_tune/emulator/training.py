"""Pure training simulation: state, progress and snapshots derived from stored timestamps.

Nothing here does I/O, reads a clock or keeps a thread: every function takes ``now``. A job
starts at its ``start`` time (the create time) and lasts exactly ``train_seconds``; its steps
are spread evenly over that span. A job marked to fail stops halfway; a cancelled job stops
at its cancel time. Both end ``FAILED``; a job that runs to the end is ``ACTIVE``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

State = Literal["CREATING", "ACTIVE", "FAILED"]

DEFAULT_EPOCH_COUNT = 5
DEFAULT_BATCH_SIZE = 4
DEFAULT_LEARNING_RATE = 0.001
FAIL_WORD = "EMULATOR_FAIL"


def total_steps(example_count: int, batch_size: int, epoch_count: int) -> int:
    """Steps of a job, as the tuning service counts them: ``ceil(examples x epochs /
    batchSize)``; batches run on across epoch boundaries. Google's recorded tutorial run
    (15 examples, 5 epochs) reports totalSteps 38 at batch size 2 and 19 at batch size 4."""
    return max(1, math.ceil(max(example_count, 1) * epoch_count / batch_size))


def steps_per_epoch(example_count: int, batch_size: int) -> float:
    """Steps in one pass over the data (a fraction when the last batch of an epoch runs on
    into the next)."""
    return max(example_count, 1) / batch_size


def data_seed(examples: Sequence[tuple[str, str]]) -> int:
    """A stable 64-bit seed from the training data (order matters, as it does for training)."""
    digest = hashlib.sha256(
        json.dumps([list(e) for e in examples], ensure_ascii=False).encode("utf-8")
    ).digest()
    return int.from_bytes(digest[:8], "big")


def _unit(seed: int, salt: int) -> float:
    """A deterministic number in [0, 1) from ``seed`` and ``salt``."""
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def mean_loss(seed: int, step: int, steps: int) -> float:
    """Exponential decay from a start in [2, 3) at step 1 to a floor in [0.05, 0.15), plus
    tiny noise.

    The curve reaches its floor at about 60 % of the job, then plateaus; the noise is at most
    1 % of the floor, so the plateau never climbs visibly.
    """
    return _LossCurve(seed, steps).at(step)


class _LossCurve:
    """`mean_loss` of one job, with the per-job draws made once."""

    def __init__(self, seed: int, steps: int) -> None:
        self.seed = seed
        self.start = 2.0 + _unit(seed, -1)
        self.floor = 0.05 + 0.1 * _unit(seed, -2)
        self.rate = 5.0 / max(1.0, 0.6 * steps)

    def at(self, step: int) -> float:
        noise = (_unit(self.seed, step) - 0.5) * 0.02 * self.floor
        decay = math.exp(-self.rate * (step - 1))
        return round(self.floor + (self.start - self.floor) * decay + noise, 6)


@dataclass(frozen=True)
class Job:
    """What the simulation needs to know about one job; all times are POSIX seconds."""

    start: float
    train_seconds: float
    steps: int
    steps_per_epoch: float  # `steps_per_epoch`
    seed: int
    fail: bool = False
    cancel_time: float | None = None
    epochs: int = 0  # the epoch count; the last step's batch may run past it (0: unknown)


@dataclass(frozen=True)
class Snapshot:
    step: int
    epoch: int
    mean_loss: float
    compute_time: float


@dataclass(frozen=True)
class Progress:
    state: State
    completed_steps: int
    complete_time: float | None  # set once the job has ended, ACTIVE or FAILED
    error: str | None  # why a FAILED job failed
    cancelled: bool = False


def stop_time(job: Job) -> float:
    """When the job ends unless cancelled first: the end, or halfway for a failing job."""
    return job.start + job.train_seconds * (0.5 if job.fail else 1.0)


def step_time(job: Job, step: int) -> float:
    """When step ``step`` (1-based) completes."""
    return job.start + job.train_seconds * step / job.steps


def steps_done_at(job: Job, t: float) -> int:
    if job.train_seconds <= 0:
        return job.steps
    done = math.floor((t - job.start) / job.train_seconds * job.steps + 1e-9)
    return max(0, min(job.steps, done))


def progress(job: Job, now: float) -> Progress:
    end = stop_time(job)
    if job.cancel_time is not None and job.cancel_time < end and now >= job.cancel_time:
        return Progress(
            "FAILED",
            steps_done_at(job, job.cancel_time),
            job.cancel_time,
            "Tuning was cancelled.",
            cancelled=True,
        )
    if now >= end:
        if job.fail:
            return Progress(
                "FAILED",
                job.steps // 2,
                end,
                f"Tuning failed halfway: the displayName contains {FAIL_WORD} "
                "(emulator's simulated failure).",
            )
        return Progress("ACTIVE", job.steps, end, None)
    return Progress("CREATING", steps_done_at(job, now), None, None)


def snapshots(job: Job, completed_steps: int) -> list[Snapshot]:
    """One snapshot per completed step; ``epoch`` (1-based) is the epoch its last example
    belongs to."""
    curve = _LossCurve(job.seed, job.steps)
    return [
        Snapshot(
            step=step,
            epoch=_epoch(job, step),
            mean_loss=curve.at(step),
            compute_time=step_time(job, step),
        )
        for step in range(1, completed_steps + 1)
    ]


def _epoch(job: Job, step: int) -> int:
    epoch = max(1, math.ceil(step / job.steps_per_epoch - 1e-9))
    return min(epoch, job.epochs) if job.epochs else epoch


def rfc3339(t: float) -> str:
    """POSIX seconds as an RFC 3339 UTC "Zulu" timestamp with microseconds."""
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
