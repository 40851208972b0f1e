"""Loss curves: per-epoch loss, where the curve plateaus, the epoch count to declare.

Pure logic on plain numbers: no I/O, no SDK, no clock. The planner (its epochCount notes),
``status --loss`` and ``status --png`` all read the same :func:`analyze`; the chart, the table
and the PNG that show it are drawn in ``gitops_tune.render``.

**Per-epoch loss.** The tuning service reports one snapshot per step (``mean_loss`` of that
step's batch). An epoch's loss is the *mean* of its steps' losses, the per-epoch training loss
Keras and most trainers report: it evens out batch-to-batch noise that the last step alone
would carry. An epoch still in training is drawn but never judged.

**The rule** (from Google's "Fine-tuning with the Gemini API" guide: "stop training at the
lowest point in the curve right before it plateaus"). Let ``L1..Ln`` be the complete epochs'
losses and ``height = max(L) - min(L)``, the curve's height on a chart. The curve has
*plateaued* at epoch ``k`` when no later epoch improves on ``Lk`` by more than
``PLATEAU_SHARE`` (5 %) of the height: ``Lk - min(Lk..Ln) <= 0.05 * height``. The recommended
epoch count is the first such ``k`` (the lowest point before the flat part), provided at least
one later epoch confirms the plateau (``k < n``). When only the last epoch qualifies, the loss
was still falling: the guide says to use a higher value, and there is no number to recommend.
The rule is invariant to the loss's scale and offset, so it reads a chart the way a person
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

PLATEAU_SHARE = 0.05
MIN_EPOCHS = 2  # fewer complete epochs cannot show a plateau


class StepLoss(Protocol):
    """What a snapshot must offer; ``providers.base.Snapshot`` does."""

    @property
    def step(self) -> int: ...

    @property
    def epoch(self) -> int: ...

    @property
    def mean_loss(self) -> float: ...


@dataclass(frozen=True)
class EpochLoss:
    epoch: int  # 1-based
    loss: float  # mean of the epoch's step losses
    steps: int
    complete: bool


@dataclass(frozen=True)
class Analysis:
    epochs: tuple[EpochLoss, ...]
    recommended: int | None  # the epoch count to declare; None when there is none to give
    verdict: str  # one sentence: why that number, or why none

    @property
    def still_falling(self) -> bool:
        judged = [e for e in self.epochs if e.complete]
        return self.recommended is None and len(judged) >= MIN_EPOCHS

    def differs_from(self, epoch_count: int) -> bool:
        """True when the declared ``epoch_count`` goes against this run's evidence."""
        if self.recommended is not None:
            return self.recommended != epoch_count
        judged = sum(1 for e in self.epochs if e.complete)
        return self.still_falling and epoch_count <= judged


def epoch_losses(snapshots: Iterable[StepLoss], finished: bool) -> tuple[EpochLoss, ...]:
    """Group step losses by epoch. When training is not ``finished`` the last epoch seen may be
    partial, so it is marked incomplete."""
    by_epoch: dict[int, list[float]] = {}
    for s in sorted(snapshots, key=lambda s: s.step):
        by_epoch.setdefault(s.epoch, []).append(s.mean_loss)
    last = max(by_epoch, default=0)
    return tuple(
        EpochLoss(e, sum(v) / len(v), len(v), finished or e != last)
        for e, v in sorted(by_epoch.items())
    )


def plateau_epoch(losses: Sequence[float], share: float = PLATEAU_SHARE) -> int | None:
    """The 1-based epoch where ``losses`` (one per complete epoch) plateau; None when they are
    too few or still falling at the end. See the module docstring for the rule."""
    n = len(losses)
    if n < MIN_EPOCHS:
        return None
    tolerance = share * (max(losses) - min(losses))
    best_after = list(losses)
    for i in range(n - 2, -1, -1):
        best_after[i] = min(losses[i], best_after[i + 1])
    for i, value in enumerate(losses):
        if value - best_after[i] <= tolerance:
            return i + 1 if i < n - 1 else None
    return None  # unreachable: the last epoch always qualifies


def analyze(snapshots: Iterable[StepLoss], finished: bool) -> Analysis:
    epochs = epoch_losses(snapshots, finished)
    judged = [e for e in epochs if e.complete]
    if len(judged) < MIN_EPOCHS:
        n = len(judged)
        return Analysis(
            epochs, None, f"{n} complete epoch{'s' if n != 1 else ''}: too few to see a plateau"
        )
    k = plateau_epoch([e.loss for e in judged])
    if k is None:
        return Analysis(
            epochs,
            None,
            f"the loss was still falling at epoch {judged[-1].epoch}: no plateau yet; "
            "a higher epochCount may help",
        )
    return Analysis(
        epochs,
        judged[k - 1].epoch,
        f"the loss plateaus from epoch {judged[k - 1].epoch} "
        f"(loss {judged[k - 1].loss:.4f}; best {min(e.loss for e in judged):.4f})",
    )
