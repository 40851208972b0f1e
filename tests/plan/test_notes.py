"""The planner's epochCount advice on a replace: pure data in, a note out, no decision changed."""

from __future__ import annotations

from gitops_tune.plan import Action, Change
from gitops_tune.providers.base import Snapshot, State
from gitops_tune.render import markdown, text
from tests.factories import HP, desired, remote, run

# Five epochs of one step each that plateau from epoch 3 (5 % rule: see gitops_tune/loss.py).
PLATEAUING = (
    Snapshot(1, 1, 2.0),
    Snapshot(2, 2, 0.5),
    Snapshot(3, 3, 0.12),
    Snapshot(4, 4, 0.1),
    Snapshot(5, 5, 0.1),
)
STILL_FALLING = (Snapshot(1, 1, 2.0), Snapshot(2, 2, 1.5), Snapshot(3, 3, 1.0))


def replace(epochs: int, snapshots: tuple[Snapshot, ...], state: State = State.ACTIVE) -> Change:
    old = remote(fp="b" * 64, state=state, snapshots=snapshots)
    hp = dict(HP, epochCount=epochs)
    (c,) = run([desired(hyperparameters=hp)], [old]).changes
    assert c.action is Action.REPLACE
    return c


def test_replace_after_a_finished_run_notes_the_recommended_epoch_count() -> None:
    c = replace(5, PLATEAUING)
    (note,) = c.notes
    assert note.startswith(f"the last training run ({c.remote}): the loss plateaus from epoch 3")
    assert note.endswith("recommended epochCount: 3 (declared: 5)")
    assert c.to_json()["notes"] == [note]


def test_no_note_when_the_manifest_already_follows_the_curve() -> None:
    assert replace(3, PLATEAUING).notes == ()


def test_still_falling_suggests_more_epochs_only_when_not_already_raised() -> None:
    (note,) = replace(3, STILL_FALLING).notes
    assert "still falling at epoch 3" in note and "more than 3 (declared: 3)" in note
    assert replace(8, STILL_FALLING).notes == ()


def test_no_note_without_a_finished_run_and_never_on_other_actions() -> None:
    assert replace(5, ()).notes == ()
    (create,) = run([desired()], []).changes
    assert create.notes == ()
    failed = remote(state=State.FAILED, snapshots=PLATEAUING)
    assert all(c.notes == () for c in run([desired()], [failed]).changes)


def test_renderers_only_show_the_note() -> None:
    old = remote(fp="b" * 64, snapshots=PLATEAUING)
    p = run([desired()], [old])
    (c,) = p.changes
    (note,) = c.notes
    assert f"      # note: {note}" in text(p)
    assert f"> **Note** on `m`: {note}" in markdown(p)
