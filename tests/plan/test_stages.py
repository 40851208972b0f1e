"""The planner's graph of stages, with plain objects: order, --target ancestors, and a
parent's retrain carried to its child as the child's reason."""

from __future__ import annotations

from gitops_tune.desired import DesiredModel
from gitops_tune.desired.state import Stage
from gitops_tune.errors import Location
from gitops_tune.plan import Reason
from tests.factories import desired, remote, run

OWN = "c" * 64


def child_of(parent_fp: str, own: str = OWN, name: str = "a-child") -> DesiredModel:
    stage = Stage("z-parent", "last", parent_fp, own, Location("c.yaml", 7, 10))
    return desired(name, stage.fingerprint, stage=stage)


def test_parents_come_first_and_children_name_them() -> None:
    child = child_of("p" * 64)
    p = run([child, desired("z-parent", "p" * 64)], [])
    assert [(c.name, c.action.value) for c in p.changes] == [
        ("z-parent", "create"),
        ("a-child", "create"),
    ]
    assert p.changes[1].depends_on == ("z-parent",) and p.changes[0].depends_on == ()
    assert p.changes[1].reason_codes == (Reason.NOT_FOUND,)
    assert any("continues from z-parent (checkpoint last)" in n for n in p.changes[1].notes)
    assert p.to_json()["changes"][1]["depends_on"] == ["z-parent"]


def test_a_retrained_parent_is_the_childs_only_reason_when_it_explains_the_change() -> None:
    old, new = "1" * 64, "2" * 64
    before = child_of(old)
    after = child_of(new)
    observed = [remote("z-parent", old), remote("a-child", before.fingerprint)]
    p = run([after, desired("z-parent", new)], observed)
    by_name = {c.name: c for c in p.changes}
    assert by_name["z-parent"].action.value == "replace"
    assert by_name["a-child"].action.value == "replace"
    assert by_name["a-child"].reasons == ("parent z-parent changes",)
    assert by_name["a-child"].reason_codes == (Reason.PARENT_CHANGED,)


def test_a_child_whose_own_data_changed_too_says_both() -> None:
    old, new = "1" * 64, "2" * 64
    before = child_of(old)
    after = child_of(new, own="d" * 64)
    observed = [remote("z-parent", old), remote("a-child", before.fingerprint)]
    p = run([after, desired("z-parent", new)], observed)
    (change,) = [c for c in p.changes if c.name == "a-child"]
    assert change.reason_codes == (Reason.DATASET_CHANGED, Reason.PARENT_CHANGED)
    assert change.reasons[-1] == "parent z-parent changes"


def test_a_child_changed_alone_keeps_its_own_reason() -> None:
    parent = "1" * 64
    before, after = child_of(parent), child_of(parent, own="d" * 64)
    observed = [remote("z-parent", parent), remote("a-child", before.fingerprint)]
    p = run([after, desired("z-parent", parent)], observed)
    by_name = {c.name: c for c in p.changes}
    assert by_name["z-parent"].action.value == "no-op"
    assert by_name["a-child"].reason_codes == (Reason.DATASET_CHANGED,)


def test_target_plans_a_child_with_its_ancestors() -> None:
    child = child_of("p" * 64)
    models = [child, desired("z-parent", "p" * 64), desired("other", "o" * 64)]
    p = run(models, [], targets=["a-child"])
    assert [c.name for c in p.changes] == ["z-parent", "a-child"]
    assert p.targets == ("a-child",)
    destroy = run(
        models,
        [remote("a-child", "x" * 64), remote("z-parent", "p" * 64)],
        destroy=True,
        targets=["a-child"],
    )
    assert [c.name for c in destroy.changes] == ["a-child"]  # destroy takes what it is told


def test_a_changed_checkpoint_alone_says_so_not_that_the_data_changed() -> None:
    parent = "1" * 64
    before = child_of(parent)  # checkpoint "last"
    stage = Stage("z-parent", "2", parent, OWN, Location("c.yaml", 7, 10))
    after = desired("a-child", stage.fingerprint, stage=stage)
    observed = [remote("z-parent", parent), remote("a-child", before.fingerprint)]
    p = run([after, desired("z-parent", parent)], observed)
    by_name = {c.name: c for c in p.changes}
    assert by_name["z-parent"].action.value == "no-op"
    child = by_name["a-child"]
    assert child.action.value == "replace"
    assert child.reasons == ("from.checkpoint changed (last -> 2)",)
    assert child.reason_codes == (Reason.FROM_CHECKPOINT_CHANGED,)
    assert ("from.checkpoint", "last", "2") in [(a.path, a.before, a.after) for a in child.diff]


def test_a_changed_checkpoint_and_a_retrained_parent_say_both() -> None:
    old, new = "1" * 64, "2" * 64
    before = child_of(old)
    stage = Stage("z-parent", "1", new, OWN, Location("c.yaml", 7, 10))
    after = desired("a-child", stage.fingerprint, stage=stage)
    observed = [remote("z-parent", old), remote("a-child", before.fingerprint)]
    p = run([after, desired("z-parent", new)], observed)
    (child,) = [c for c in p.changes if c.name == "a-child"]
    assert child.reason_codes == (Reason.FROM_CHECKPOINT_CHANGED, Reason.PARENT_CHANGED)
    assert child.reasons == ("from.checkpoint changed (last -> 1)", "parent z-parent changes")


def test_own_data_changed_with_the_checkpoint_says_the_data_changed() -> None:
    parent = "1" * 64
    before = child_of(parent, own="e" * 64)
    stage = Stage("z-parent", "2", parent, OWN, Location("c.yaml", 7, 10))
    after = desired("a-child", stage.fingerprint, stage=stage)
    observed = [remote("z-parent", parent), remote("a-child", before.fingerprint)]
    p = run([after, desired("z-parent", parent)], observed)
    (child,) = [c for c in p.changes if c.name == "a-child"]
    assert child.reason_codes == (Reason.DATASET_CHANGED,)  # its own data changed too
