"""Attribute diffs between what the backend reports and what a manifest declares.

Floats are compared as DeepDiff compares them with ``significant_digits=7`` and
``number_format_notation="e"``: rounded to 7 decimal places, then written with 8 significant
digits. The API answers in float32, so 0.001 comes back as 0.0010000000474974513, and that is
no change. Those DeepDiff options are the rule; ``same`` below only repeats it to answer the
common "nothing changed" case without importing DeepDiff (0.15 to 0.4 s) or calling it (about
0.5 ms a model, so 0.5 s on a 1,000-model plan). ``math_epsilon`` would not do instead: it is
an absolute tolerance, not a rounding, and would change which values count as equal.
tests/test_plan_diff.py checks ``same`` against DeepDiff itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops_tune.backends import Hyperparameters
from gitops_tune.desired import DesiredModel
from gitops_tune.plan.model import AttributeChange, Reason
from gitops_tune.providers.base import RemoteModel, State

TRAINING_OPTIONS = ("preTunedModel", "exportLastCheckpointOnly", "encryptionSpec")
# a change here needs a new training run
IMMUTABLE = ("baseModel", "hyperparameters", "method", *TRAINING_OPTIONS)
MUTABLE = ("displayName", "description", "serving.checkpoint")  # patched in place


def attributes_of(r: RemoteModel, d: DesiredModel) -> dict[str, Any]:
    """The remote model's attributes as compared with ``d``: only the hyperparameters ``d``
    has (the manifest's, with the backend's defaults filled in). A value the service filled in
    on its own for a setting the manifest leaves unset (Vertex AI reports an ``adapterSize``
    nobody sent) is no change."""
    fingerprint = r.owner.fingerprint if r.owner else None
    attributes = _attributes(
        r.display_name, r.description, r.base_model, r.hyperparameters, fingerprint
    )
    declared = d.hyperparameters.fields()
    attributes["hyperparameters"] = {
        k: v for k, v in attributes["hyperparameters"].items() if k in declared
    }
    if d.options.pre_tuned_model or d.stage:  # the base is the pre-tuned model's own
        attributes["baseModel"] = d.base_model
    # A matching fingerprint says the run was set up as declared: no need to read it back.
    attributes |= _options(r, d) if fingerprint != d.fingerprint else d.options.fields()
    return attributes | _serving(r, d) | _stage(d)


def _options(r: RemoteModel, d: DesiredModel) -> dict[str, Any]:
    """The run's options as the backend reports them; a stage's ``preTunedModel`` is its
    parent's model, which the fingerprint compares (through the parent's fingerprint)."""
    fields = r.options.fields()
    if d.stage is not None:
        fields.pop("preTunedModel", None)
    return fields


def _stage(d: DesiredModel) -> dict[str, Any]:
    return d.stage.fields() if d.stage is not None else {}


def attributes_of_desired(d: DesiredModel) -> dict[str, Any]:
    attributes = _attributes(
        d.display_name, d.description, d.base_model, d.hyperparameters, d.fingerprint
    )
    return (
        attributes
        | d.options.fields()
        | ({"serving": {"checkpoint": d.serving}} if d.serving else {})
        | _stage(d)
    )


def _serving(r: RemoteModel, d: DesiredModel) -> dict[str, Any]:
    """The checkpoint ``r`` serves, said the way ``d`` says it ("last" or an epoch), when ``d``
    declares one; a model still training serves none yet (it is switched once trained)."""
    if not d.serving:
        return {}
    served = next((c for c in r.checkpoints if c.checkpoint_id == r.serving_checkpoint), None)
    if served is None:
        return {"serving": {"checkpoint": d.serving}} if r.state is State.TRAINING else {}
    if d.serving == "best":  # the epoch scored best; none chosen yet: nothing to switch to
        chosen = _chosen(r, d)
        said = "best" if chosen in (0, served.epoch) else str(served.epoch)
        return {"serving": {"checkpoint": said}}
    last = max(r.checkpoints, key=lambda c: (c.epoch, c.step))
    said = "last" if d.serving == "last" and served == last else str(served.epoch)
    return {"serving": {"checkpoint": said}}


def _chosen(r: RemoteModel, d: DesiredModel) -> int:
    """The epoch of ``r``'s checkpoint that scored best on ``d``'s evaluation (0: none)."""
    s, spec = r.scores, d.evaluation
    return s.best if s is not None and spec is not None and s.key == spec.key else 0


def _attributes(
    display_name: str,
    description: str,
    base_model: str,
    hyperparameters: Hyperparameters,
    fingerprint: str | None,
) -> dict[str, Any]:
    """The attributes a diff compares, by their manifest names."""
    return {
        "displayName": display_name,
        "description": description,
        "baseModel": base_model,
        "hyperparameters": hyperparameters.fields(),
        "fingerprint": fingerprint,
    }


def immutable_changes(diff: tuple[AttributeChange, ...]) -> tuple[AttributeChange, ...]:
    return tuple(c for c in diff if c.path.split(".")[0] in IMMUTABLE)


def mutable_changes(diff: tuple[AttributeChange, ...]) -> tuple[AttributeChange, ...]:
    return tuple(c for c in diff if c.path in MUTABLE)


_REASONS = {
    "baseModel": Reason.BASE_MODEL_CHANGED,
    "hyperparameters": Reason.HYPERPARAMETERS_CHANGED,
    "displayName": Reason.DISPLAY_NAME_CHANGED,
    "description": Reason.DESCRIPTION_CHANGED,
    "fingerprint": Reason.DATASET_CHANGED,
    "serving": Reason.SERVING_CHECKPOINT_CHANGED,
    "method": Reason.METHOD_CHANGED,
    **{key: Reason.TRAINING_OPTIONS_CHANGED for key in TRAINING_OPTIONS},
}


def reasons_of(changes: tuple[AttributeChange, ...]) -> tuple[Reason, ...]:
    """The reason codes of attribute changes, each once, in order."""
    return tuple(dict.fromkeys(_REASONS[c.path.split(".")[0]] for c in changes))


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[AttributeChange, ...]:
    """Attribute changes via DeepDiff, sorted by path (see the module docstring for floats)."""
    if not before:
        return tuple(AttributeChange(k, None, v) for k, v in sorted(after.items()))
    if same(before, after):  # the common case, at a fraction of a DeepDiff call
        return ()
    from deepdiff import DeepDiff  # lazy: slow to import (see the module docstring)

    dd = DeepDiff(
        dict(before),
        dict(after),
        significant_digits=7,
        number_format_notation="e",
        ignore_numeric_type_changes=True,
    )
    out: list[AttributeChange] = []
    for kind in dd.tree:
        for level in dd.tree[kind]:
            path = ".".join(str(p) for p in level.path(output_format="list"))
            t1 = None if kind.endswith("_added") else level.t1
            t2 = None if kind.endswith("_removed") else level.t2
            out.append(AttributeChange(path, t1, t2))
    return tuple(sorted(out, key=lambda c: c.path))


def same(before: Any, after: Any) -> bool:
    """True only where `diff`'s DeepDiff would find no change: same keys, equal strings and
    equal numbers as DeepDiff rounds and formats them (7 digits, "e" notation, int and float
    alike). Anything it is not sure of is "not the same", and DeepDiff decides."""
    if type(before) is dict and type(after) is dict:
        return before.keys() == after.keys() and all(same(before[k], after[k]) for k in before)
    if type(before) in (int, float) and type(after) in (int, float):
        return before == after or _e7(before) == _e7(after)
    return (
        type(before) is type(after)
        and type(before) in (str, bool, type(None))
        and (before == after)
    )


def _e7(number: float) -> str:
    """deepdiff.helper.number_to_string(number, 7, "e") for ints and floats (the exponent's
    leading-zero trim is the same on both sides, so it is left out)."""
    rounded = round(number, 7)
    return f"{abs(rounded) if rounded == 0.0 else rounded:.7e}"
