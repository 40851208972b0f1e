"""The planner attaches what retiring each model does to the change that retires it."""

from __future__ import annotations

from gitops_tune.plan import Action
from gitops_tune.providers.base import Retirement, State
from tests.factories import desired, remote, run

RETIRE = Retirement(("delete tuned model models/5",), ("label models/5 retired",), "")


def test_a_delete_carries_the_retirement_of_its_model() -> None:
    gone = remote("gone", retirement=RETIRE)
    (change,) = run([], [gone]).changes
    assert change.action is Action.DELETE
    assert [(r.model, r.retirement) for r in change.retirements] == [(gone.id, RETIRE)]


def test_a_replace_carries_the_retirement_of_what_it_supersedes() -> None:
    old = remote("m", fp="b" * 64, retirement=RETIRE)
    (change,) = run([desired("m")], [old]).changes
    assert change.action is Action.REPLACE and change.superseded == (old.id,)
    assert [r.model for r in change.retirements] == [old.id]


def test_plain_deletes_and_kept_models_carry_none() -> None:
    plain = remote("gone")
    (change,) = run([], [plain]).changes
    assert change.retirements == ()
    kept = remote("m", retirement=RETIRE)
    (same,) = run([desired("m")], [kept]).changes
    assert same.action is Action.NO_OP and same.retirements == ()


def test_a_cancel_of_a_training_model_with_nothing_made_carries_none() -> None:
    busy = remote("busy", state=State.TRAINING)
    (change,) = run([], [busy]).changes
    assert change.action is Action.CANCEL and change.retirements == ()
