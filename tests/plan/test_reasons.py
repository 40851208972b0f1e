"""Every change carries typed reason codes next to its sentences, right for its action."""

from __future__ import annotations

import json

import jsonschema

from gitops_tune.plan import Action, Plan
from gitops_tune.plan.model import REASON_DOCS, Reason
from gitops_tune.plan.schema import plan_schema
from gitops_tune.providers.base import State
from gitops_tune.render import to_json
from tests.factories import HP, desired, remote, run

R = Reason


def codes(p: Plan) -> list[tuple[str, tuple[Reason, ...]]]:
    return [(c.action.value, c.reason_codes) for c in p.changes]


def test_create_not_found() -> None:
    assert codes(run([desired()], [])) == [("create", (R.NOT_FOUND,))]


def test_no_op_has_no_reasons() -> None:
    (c,) = run([desired()], [remote()]).changes
    assert c.action is Action.NO_OP and c.reasons == () and c.reason_codes == ()


def test_update_names_each_changed_attribute_in_sentence_order() -> None:
    p = run([desired(display_name="New", description="d")], [remote(display_name="Old")])
    (c,) = p.changes
    assert c.reasons == ("description changed", "displayName changed")
    assert c.reason_codes == (R.DESCRIPTION_CHANGED, R.DISPLAY_NAME_CHANGED)


def test_update_of_the_prevent_destroy_marker() -> None:
    p = run([desired(prevent_destroy=True, display_name="x")], [remote()])
    assert codes(p) == [("update", (R.DISPLAY_NAME_CHANGED, R.PREVENT_DESTROY_CHANGED))]


def test_replace_lists_each_code_once() -> None:
    old = remote(fp="b" * 64, base_model="models/old", hyperparameters={"epochCount": 1})
    (c,) = run([desired()], [old]).changes
    assert c.action is Action.REPLACE
    assert len(c.reasons) == 4  # baseModel and three hyperparameters
    assert c.reason_codes == (R.BASE_MODEL_CHANGED, R.HYPERPARAMETERS_CHANGED)


def test_replace_when_only_the_dataset_changed() -> None:
    assert codes(run([desired()], [remote(fp="b" * 64)])) == [("replace", (R.DATASET_CHANGED,))]


def test_recreate_failed_or_changed_outside_git() -> None:
    assert codes(run([desired()], [remote(state=State.FAILED)])) == [("recreate", (R.FAILED,))]
    drifted = remote(hyperparameters=dict(HP, epochCount=9))
    assert codes(run([desired()], [drifted])) == [("recreate", (R.CHANGED_OUTSIDE_GIT,))]


def test_in_progress_is_training() -> None:
    p = run([desired()], [remote(state=State.TRAINING)])
    assert codes(p) == [("in-progress", (R.TRAINING,))]


def test_superseded_models_are_cancelled_or_deleted_with_why() -> None:
    training = remote(fp="b" * 64, state=State.TRAINING)
    assert codes(run([desired()], [training])) == [
        ("cancel", (R.SUPERSEDED,)),
        ("create", (R.DATASET_CHANGED,)),
    ]
    failed = remote(fp="b" * 64, state=State.FAILED)
    assert codes(run([desired()], [failed]))[0] == ("delete", (R.SUPERSEDED, R.FAILED))


def test_superseded_active_model_beyond_retain_previous() -> None:
    old = remote(fp="b" * 64)
    new = remote(created="2026-01-02T00:00:00Z")
    assert codes(run([desired()], [old, new])) == [
        ("delete", (R.SUPERSEDED, R.BEYOND_RETAIN_PREVIOUS)),
        ("no-op", ()),
    ]
    assert codes(run([desired(retain_previous=1)], [old, new])) == [("no-op", ())]


def test_duplicates() -> None:
    keep = remote(created="2026-01-01T00:00:00Z")
    active = remote(model_id="m-dup1", created="2026-01-02T00:00:00Z")
    training = remote(model_id="m-dup2", state=State.TRAINING)
    failed = remote(model_id="m-dup3", state=State.FAILED)
    assert codes(run([desired()], [keep, active, training, failed])) == [
        ("cancel", (R.DUPLICATE,)),
        ("delete", (R.DUPLICATE,)),
        ("delete", (R.DUPLICATE, R.FAILED)),
        ("no-op", ()),
    ]


def test_removed_from_manifests_or_destroyed() -> None:
    obs = [remote("a"), remote("b", state=State.TRAINING)]
    removed = (R.REMOVED_FROM_MANIFESTS,)
    assert codes(run([], obs)) == [("delete", removed), ("cancel", removed)]
    declared = [desired("a"), desired("b")]
    destroyed = (R.DESTROY,)
    assert codes(run(declared, obs, destroy=True)) == [("delete", destroyed), ("cancel", destroyed)]


def test_restore_matches_previous() -> None:
    previous = remote(update_time="2026-01-01T00:00:00Z")
    newer = remote(fp="b" * 64, update_time="2026-02-01T00:00:00Z", created="2026-02-01")
    p = run([desired(retain_previous=1)], [previous, newer])
    assert codes(p) == [("restore", (R.MATCHES_PREVIOUS,))]


def test_every_change_with_a_sentence_has_a_code_and_every_code_is_documented() -> None:
    assert set(REASON_DOCS) == set(Reason)
    old = remote("rep", fp="b" * 64)
    p = run([desired("new"), desired("rep")], [old, remote("gone"), remote("busy")])
    assert all(bool(c.reasons) == bool(c.reason_codes) for c in p.changes)


def test_json_plan_has_sentences_and_codes_and_fits_the_schema() -> None:
    p = run([desired()], [remote(fp="b" * 64, state=State.FAILED)])
    doc = json.loads(to_json(p))
    jsonschema.Draft202012Validator(plan_schema()).validate(doc)
    assert [(c["action"], c["reason_codes"]) for c in doc["changes"]] == [
        ("delete", ["superseded", "failed"]),
        ("create", ["dataset_changed"]),
    ]
    assert doc["changes"][0]["reasons"] == ["superseded and FAILED"]
    listed = plan_schema()["properties"]["changes"]["items"]["properties"]["reason_codes"]
    assert [o["const"] for o in listed["items"]["oneOf"]] == [r.value for r in Reason]
