"""Loss analysis on plain numbers: per-epoch loss, the plateau rule, the chart."""

from __future__ import annotations

import pytest

from gitops_tune.emulator import training
from gitops_tune.loss import analyze, epoch_losses, plateau_epoch
from gitops_tune.providers.base import Snapshot
from gitops_tune.render.loss import chart, table


def steps(*per_epoch: list[float]) -> list[Snapshot]:
    out, step = [], 0
    for epoch, losses in enumerate(per_epoch, start=1):
        for value in losses:
            step += 1
            out.append(Snapshot(step, epoch, value))
    return out


def test_epoch_loss_is_the_mean_of_its_steps_and_the_last_epoch_may_be_partial() -> None:
    snaps = steps([3.0, 1.0], [0.5, 0.25], [0.2])
    finished = epoch_losses(snaps, finished=True)
    assert [(e.epoch, e.loss, e.steps, e.complete) for e in finished] == [
        (1, 2.0, 2, True),
        (2, 0.375, 2, True),
        (3, 0.2, 1, True),
    ]
    training_ = epoch_losses(list(reversed(snaps)), finished=False)
    assert [e.complete for e in training_] == [True, True, False]


@pytest.mark.parametrize(
    ("losses", "expected"),
    [
        # The seed's picture: falls, then flat from epoch 4 on -> 4.
        ([2.0, 1.0, 0.5, 0.2, 0.19, 0.19], 4),
        # Within 5 % of the height (2.0 - 0.1 = 1.9; 0.095) of the best later value.
        ([2.0, 0.5, 0.19, 0.1, 0.1], 3),
        ([2.0, 0.5, 0.2, 0.1, 0.1], 4),
        # Rising after the lowest point: the lowest point is where it stops.
        ([2.0, 0.3, 0.1, 0.4, 0.5], 3),
        # A flat curve plateaus at once.
        ([0.3, 0.3, 0.3], 1),
        # Still falling steeply at the end: no plateau, no number.
        ([2.0, 1.5, 1.0, 0.5], None),
        # Too few epochs to tell.
        ([1.0], None),
        ([], None),
    ],
)
def test_plateau_rule(losses: list[float], expected: int | None) -> None:
    assert plateau_epoch(losses) == expected


def test_the_rule_ignores_scale_and_offset() -> None:
    losses = [2.0, 1.0, 0.5, 0.2, 0.19, 0.19]
    assert plateau_epoch([v * 100 + 7 for v in losses]) == plateau_epoch(losses) == 4


def test_analysis_recommends_and_compares_with_the_declared_count() -> None:
    a = analyze(steps([2.0], [1.0], [0.5], [0.2], [0.19], [0.19]), finished=True)
    assert a.recommended == 4
    assert "plateaus from epoch 4" in a.verdict
    assert a.differs_from(6) and not a.differs_from(4)


def test_still_falling_suggests_more_epochs_never_fewer() -> None:
    a = analyze(steps([2.0], [1.5], [1.0], [0.5]), finished=True)
    assert a.recommended is None and a.still_falling
    assert "still falling at epoch 4" in a.verdict
    assert a.differs_from(4) and a.differs_from(3) and not a.differs_from(6)


def test_a_partial_epoch_is_not_judged() -> None:
    # Epoch 3 is in training: only epochs 1-2 count, and they are still falling.
    a = analyze(steps([2.0], [1.0], [0.1]), finished=False)
    assert a.recommended is None and "epoch 2" in a.verdict
    few = analyze(steps([2.0], [1.0]), finished=False)
    assert not few.still_falling and "too few" in few.verdict
    assert not few.differs_from(5)


def test_emulator_curves_plateau_at_about_sixty_percent() -> None:
    """The emulator's curve reaches its floor at ~60 % of the job (emulator/training.py)."""
    for examples, batch, epochs, expected in [(22, 4, 5, 3), (120, 8, 4, 3), (100, 4, 10, 5)]:
        per_epoch = training.steps_per_epoch(examples, batch)
        total = training.total_steps(examples, batch, epochs)
        job = training.Job(0, 1, total, per_epoch, seed=examples)
        snaps = [Snapshot(s.step, s.epoch, s.mean_loss) for s in training.snapshots(job, job.steps)]
        assert analyze(snaps, finished=True).recommended == expected


def test_chart_draws_bars_axes_and_the_recommendation() -> None:
    a = analyze(steps([2.0], [1.0], [0.5], [0.2], [0.19], [0.19]), finished=True)
    lines = chart(a, height=8).splitlines()
    assert lines[0].startswith("2.00 ┤") and "█" in lines[0]
    assert lines[8].startswith("0.00 └─")
    assert lines[9].split() == ["1", "2", "3", "4", "5", "6", "epoch"]
    marker = lines[10]
    tick_column = lines[9].index("4")
    assert marker.index("▲") == tick_column and marker.endswith("▲ recommended")
    # Bar heights fall with the loss: epoch 1 reaches the top row, epoch 6 only the bottom one.
    assert lines[7].count("█") + lines[7].count("▇") + lines[7].count("▆") >= 6
    assert all(ch in " ┤│▁▂▃▄▅▆▇█0123456789." for ch in "".join(lines[:8]))


def test_chart_marks_partial_epochs_and_handles_no_data() -> None:
    a = analyze(steps([2.0], [1.0], [0.8]), finished=False)
    text = chart(a, height=6)
    assert "░" in text and "▲" not in text
    assert chart(analyze([], finished=False)) == "no loss reported yet\n"


def test_chart_with_many_epochs_stays_readable() -> None:
    a = analyze(steps(*[[2.0 / (i + 1)] for i in range(40)]), finished=True)
    lines = chart(a).splitlines()
    assert max(len(line) for line in lines) <= 90
    assert lines[-2].split()[0] == "1" and lines[-2].endswith("epoch")


def test_table_lists_every_epoch() -> None:
    a = analyze(steps([2.0], [1.0], [0.5], [0.2], [0.19], [0.19]), finished=True)
    rows = table(a).splitlines()
    assert rows[0].split() == ["epoch", "loss", "steps"]
    assert rows[4].split() == ["4", "0.2000", "1", "◀", "recommended"]
