"""Planner table tests on plain data: no files, no API, no clock."""

from __future__ import annotations

import pytest

from gitops_tune.errors import UserError
from gitops_tune.plan import Action, Plan, tuned_model_id
from gitops_tune.providers.base import State
from tests.factories import HP, WS, desired, remote, run


def actions(p: Plan) -> list[tuple[str, str, str | None]]:
    return [(c.name, c.action.value, c.remote) for c in p.changes]


def test_create_when_nothing_exists() -> None:
    p = run([desired()], [])
    (c,) = p.changes
    assert c.action is Action.CREATE
    assert c.new_id == tuned_model_id(WS, "m", "a" * 64)
    assert c.reasons == ("not found",)
    assert {a.path for a in c.diff} >= {"baseModel", "hyperparameters", "fingerprint"}
    assert p.has_changes


def test_model_id_fits_the_40_character_rule_and_depends_on_workspace() -> None:
    long_name = "a" + "b" * 28 + "c"
    mid = tuned_model_id(WS, long_name, "f" * 64)
    assert len(mid) == 40
    assert tuned_model_id("other", long_name, "f" * 64) != mid


def test_no_op_when_everything_matches() -> None:
    p = run([desired()], [remote()])
    assert actions(p) == [("m", "no-op", "tunedModels/" + tuned_model_id(WS, "m", "a" * 64))]
    assert not p.has_changes


def test_float32_echo_of_learning_rate_is_not_drift() -> None:
    echoed = dict(HP, learningRate=0.0010000000474974513)
    p = run([desired()], [remote(hyperparameters=echoed)])
    assert not p.has_changes


def test_update_when_display_name_or_description_changed() -> None:
    p = run([desired(display_name="New", description="d")], [remote(display_name="Old")])
    (c,) = p.changes
    assert c.action is Action.UPDATE
    assert [(a.path, a.before, a.after) for a in c.diff] == [
        ("description", "", "d"),
        ("displayName", "Old", "New"),
    ]
    assert c.reasons == ("description changed", "displayName changed")


def test_update_when_prevent_destroy_flag_changes_the_marker() -> None:
    p = run([desired(prevent_destroy=True)], [remote()])
    (c,) = p.changes
    assert c.action is Action.UPDATE
    assert "lifecycle.preventDestroy is now true" in c.reasons


def test_replace_when_fingerprint_changed_keeps_old_until_new_is_active() -> None:
    old = remote(fp="b" * 64, hyperparameters=dict(HP, epochCount=3))
    p = run([desired()], [old])
    (c,) = p.changes
    assert c.action is Action.REPLACE
    assert c.superseded == (old.id,)
    assert c.remote == old.id
    assert c.reasons == ("hyperparameters.epochCount changed",)
    assert ("hyperparameters.epochCount", 3, 5) in [(a.path, a.before, a.after) for a in c.diff]


def test_replace_reason_names_data_when_only_the_dataset_changed() -> None:
    p = run([desired()], [remote(fp="b" * 64)])
    assert p.changes[0].reasons == ("the training data or preamble changed",)


def test_replacement_training_keeps_superseded_active_model() -> None:
    old = remote(fp="b" * 64, created="2026-01-01T00:00:00Z")
    new = remote(state=State.TRAINING, created="2026-01-02T00:00:00Z")
    p = run([desired()], [old, new])
    (c,) = p.changes
    assert c.action is Action.IN_PROGRESS
    assert c.superseded == (old.id,)
    assert not p.has_changes


def test_superseded_deleted_once_replacement_active() -> None:
    old = remote(fp="b" * 64)
    new = remote(created="2026-01-02T00:00:00Z")
    p = run([desired()], [old, new])
    assert actions(p) == [("m", "delete", old.id), ("m", "no-op", new.id)]
    assert "which is ACTIVE" in p.changes[0].reasons[0]


def test_superseded_still_training_is_cancelled() -> None:
    old = remote(fp="b" * 64, state=State.TRAINING)
    p = run([desired()], [old])
    assert [c.action for c in p.changes] == [Action.CANCEL, Action.CREATE]
    assert p.changes[1].superseded == ()


def test_superseded_failed_is_deleted_and_new_is_created() -> None:
    old = remote(fp="b" * 64, state=State.FAILED)
    p = run([desired()], [old])
    assert [c.action for c in p.changes] == [Action.DELETE, Action.CREATE]
    assert p.changes[1].reasons == ("the training data or preamble changed",)


def test_recreate_when_current_failed() -> None:
    failed = remote(state=State.FAILED, error="quota")
    p = run([desired()], [failed])
    (c,) = p.changes
    assert c.action is Action.RECREATE
    assert c.remote == failed.id and c.new_id == failed.id.removeprefix("tunedModels/")
    assert "FAILED: quota" in c.reasons[0]


def test_recreate_keeps_serving_superseded_active_until_retrained() -> None:
    old = remote(fp="b" * 64)
    failed = remote(state=State.FAILED, created="2026-01-02T00:00:00Z")
    p = run([desired()], [old, failed])
    (c,) = p.changes
    assert c.action is Action.RECREATE
    assert c.superseded == (old.id,)


def test_in_progress_is_not_a_change() -> None:
    p = run([desired()], [remote(state=State.TRAINING)])
    assert [c.action for c in p.changes] == [Action.IN_PROGRESS]
    assert not p.has_changes


def test_immutable_drift_outside_git_forces_recreate() -> None:
    p = run([desired()], [remote(base_model="models/other")])
    (c,) = p.changes
    assert c.action is Action.RECREATE
    assert "baseModel changed outside Git" in c.reasons[0]


def test_removed_manifest_deletes_or_cancels() -> None:
    a = remote("a")
    b = remote("b", state=State.TRAINING)
    p = run([], [a, b])
    assert actions(p) == [("a", "delete", a.id), ("b", "cancel", b.id)]


def test_prevent_destroy_blocks_destroy_with_location() -> None:
    with pytest.raises(UserError) as e:
        run([desired(prevent_destroy=True)], [remote(prevent_destroy=True)], destroy=True)
    msg = str(e.value)
    assert msg.startswith("m.yaml:4:9: spec.lifecycle.preventDestroy: ")
    assert "tunedModels/m-" in msg


def test_prevent_destroy_in_marker_protects_after_manifest_removed() -> None:
    with pytest.raises(UserError, match=r"lifecycle\.preventDestroy is set"):
        run([], [remote(prevent_destroy=True)])


def test_destroy_plans_deletion_of_everything() -> None:
    p = run([desired()], [remote()], destroy=True)
    assert [c.action for c in p.changes] == [Action.DELETE]


def test_duplicates_left_by_a_race_are_removed() -> None:
    keep = remote(created="2026-01-01T00:00:00Z")
    dup_active = remote(model_id="m-dup1", created="2026-01-02T00:00:00Z")
    dup_training = remote(model_id="m-dup2", state=State.TRAINING)
    p = run([desired()], [keep, dup_active, dup_training])
    assert actions(p) == [
        ("m", "cancel", dup_training.id),
        ("m", "delete", dup_active.id),
        ("m", "no-op", keep.id),
    ]
    assert p.changes[1].reasons[0].startswith("duplicate of " + keep.id)


def test_targets_limit_the_plan() -> None:
    p = run([desired("a"), desired("b")], [], targets={"b"})
    assert [c.name for c in p.changes] == ["b"]


def test_unknown_target_is_an_error() -> None:
    with pytest.raises(UserError, match="--target nope"):
        run([desired("a")], [], targets={"nope"})


def test_foreign_models_are_a_bug_guard() -> None:
    with pytest.raises(ValueError, match="outside workspace"):
        run([], [remote(workspace="other")])


def test_plan_is_deterministic_and_sorted() -> None:
    ds = [desired("b"), desired("a")]
    obs = [remote("z"), remote("c", fp="c" * 64)]
    p1, p2 = run(ds, obs), run(list(reversed(ds)), list(reversed(obs)))
    assert p1 == p2
    assert [c.name for c in p1.changes] == ["a", "b", "c", "z"]


def test_saved_plan_digests_move_when_the_world_moves() -> None:
    p1 = run([desired()], [remote(state=State.TRAINING)])
    p2 = run([desired()], [remote(state=State.ACTIVE)])
    p3 = run([desired(display_name="x")], [remote(state=State.TRAINING)])
    assert p1.observed_digest != p2.observed_digest
    assert p1.desired_digest != p3.desired_digest


def test_retain_previous_keeps_the_most_recent_superseded_models() -> None:
    old = remote(fp="b" * 64, update_time="2026-01-01T00:00:00Z")
    older = remote(fp="c" * 64, update_time="2025-01-01T00:00:00Z")
    new = remote(update_time="2026-02-01T00:00:00Z", created="2026-02-01T00:00:00Z")
    p = run([desired(retain_previous=1)], [older, old, new])
    assert actions(p) == [("m", "delete", older.id), ("m", "no-op", new.id)]
    p = run([desired(retain_previous=2)], [older, old, new])
    assert actions(p) == [("m", "no-op", new.id)]
    # N shrinks: the extras are cleaned up.
    p = run([desired(retain_previous=0)], [older, old, new])
    assert [c.action for c in p.changes] == [Action.DELETE, Action.DELETE, Action.NO_OP]


def test_revert_to_a_retained_model_restores_it_without_training() -> None:
    previous = remote(fp="a" * 64, update_time="2026-01-01T00:00:00Z")
    newer = remote(fp="b" * 64, update_time="2026-02-01T00:00:00Z", created="2026-02-01")
    p = run([desired(retain_previous=1)], [previous, newer])
    (c,) = p.changes
    assert c.action is Action.RESTORE
    assert c.remote == previous.id and c.new_id is None
    assert c.reasons[1] == f"{newer.id} becomes previous"
    assert p.has_changes
    # Once patched, the restored model is the most recently updated: nothing more to do.
    restored = remote(fp="a" * 64, update_time="2026-03-01T00:00:00Z")
    assert actions(run([desired(retain_previous=1)], [restored, newer])) == [
        ("m", "no-op", restored.id)
    ]


def test_revert_without_retention_still_restores_and_retires_the_newer() -> None:
    previous = remote(fp="a" * 64, update_time="2026-01-01T00:00:00Z")
    newer = remote(fp="b" * 64, update_time="2026-02-01T00:00:00Z", created="2026-02-01")
    p = run([desired()], [previous, newer])
    assert actions(p) == [("m", "delete", newer.id), ("m", "restore", previous.id)]
