"""The plan: what would change, as data, and the pure function that computes it.

``plan(desired, observed, options) -> Plan`` reads no files, calls no API and looks at no
clock: every run recomputes the whole picture from what is declared and what exists, so a run
that was interrupted anywhere is repaired by the next one (level-triggered, like a Kubernetes
controller).

For each manifest name the observed models split into the *current* one (its ownership marker
carries the desired fingerprint) and *superseded* ones (anything else owned under that name).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gitops_tune.desired import DesiredModel
from gitops_tune.errors import Diagnostic, UserError
from gitops_tune.loss import analyze
from gitops_tune.providers.base import RemoteModel, State

FORMAT_VERSION = "1"


class Action(str, Enum):
    """What happens to one model. The values are the JSON plan's contract."""

    CREATE = "create"  # nothing exists for the name
    UPDATE = "update"  # displayName/description/marker patched in place
    RESTORE = "restore"  # a retained previous model matches again: it becomes current, no training
    REPLACE = "replace"  # an immutable input changed: train a new model, retire the old once ACTIVE
    RECREATE = "recreate"  # the current model FAILED: delete it and train again
    CANCEL = "cancel"  # a superseded or removed model still training: stop it and delete it
    DELETE = "delete"  # removed from Git, superseded, failed leftovers or duplicates
    IN_PROGRESS = "in-progress"  # the current model is training; nothing to do
    NO_OP = "no-op"

    @property
    def is_change(self) -> bool:
        return self not in (Action.NO_OP, Action.IN_PROGRESS)

    @property
    def trains(self) -> bool:
        return self in (Action.CREATE, Action.REPLACE, Action.RECREATE)


# Order of display and execution within a name: destructive clean-up first frees IDs for reuse.
_ACTION_ORDER = {
    a: i
    for i, a in enumerate(
        [
            Action.CANCEL,
            Action.DELETE,
            Action.RECREATE,
            Action.REPLACE,
            Action.CREATE,
            Action.RESTORE,
            Action.UPDATE,
            Action.IN_PROGRESS,
            Action.NO_OP,
        ]
    )
}


@dataclass(frozen=True)
class AttributeChange:
    path: str  # e.g. "hyperparameters.epochCount"
    before: Any  # None when absent
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Change:
    """One action on one name. ``remote`` is the existing model acted on, ``new_id`` the model
    a training action creates; ``superseded`` are retired only once ``new_id`` is ACTIVE."""

    name: str
    action: Action
    reasons: tuple[str, ...] = ()
    remote: str | None = None
    remote_state: State | None = None
    new_id: str | None = None
    diff: tuple[AttributeChange, ...] = ()
    superseded: tuple[str, ...] = ()
    desired: DesiredModel | None = field(default=None, compare=False, repr=False)
    notes: tuple[str, ...] = ()  # advice for the reviewer; never changes what apply does

    def to_json(self) -> dict[str, Any]:
        d = self.desired
        return {
            "name": self.name,
            "action": self.action.value,
            "reasons": list(self.reasons),
            "remote": self.remote,
            "remote_state": self.remote_state.value if self.remote_state else None,
            "new": self.new_id,
            "superseded": list(self.superseded),
            "fingerprint": d.fingerprint if d else None,
            "diff": [c.to_json() for c in self.diff],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class PlanOptions:
    workspace: str
    destroy: bool = False
    targets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    workspace: str
    backend: str
    changes: tuple[Change, ...]
    observed_digest: str  # what the provider reported; a saved plan is stale when it moves
    desired_digest: str
    destroy: bool = False
    targets: tuple[str, ...] = ()

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action.is_change)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for c in self.changes:
            counts[c.action.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "workspace": self.workspace,
            "backend": self.backend,
            "destroy": self.destroy,
            "targets": list(self.targets),
            "observed_digest": self.observed_digest,
            "desired_digest": self.desired_digest,
            "changes": [c.to_json() for c in self.changes],
            "summary": self.summary(),
        }


def tuned_model_id(workspace: str, name: str, fingerprint: str) -> str:
    """The deterministic tuned-model ID: ``{name}-{9 hex}``, at most 40 characters.

    The suffix hashes the workspace with the fingerprint, so a repeated create answers 409 and
    is adopted, while two workspaces declaring the same model never collide.
    """
    suffix = hashlib.sha256(f"{workspace}\0{fingerprint}".encode()).hexdigest()[:9]
    return f"{name}-{suffix}"


def observed_digest(observed: Iterable[RemoteModel]) -> str:
    """A digest of everything the planner reads from the remote side."""
    rows = sorted(
        [
            m.id,
            m.state.value,
            m.display_name,
            m.description,
            m.base_model,
            json.dumps(m.hyperparameters.fields(), sort_keys=True),
            m.owner.name if m.owner else "",
            m.owner.fingerprint if m.owner else "",
            m.owner.prevent_destroy if m.owner else False,
        ]
        for m in observed
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def desired_digest(desired: Iterable[DesiredModel]) -> str:
    rows = sorted(
        [d.name, d.fingerprint, d.display_name, d.description, d.prevent_destroy] for d in desired
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def plan(
    desired: Sequence[DesiredModel],
    observed: Sequence[RemoteModel],
    options: PlanOptions,
    backend: str = "",
) -> Plan:
    """Compare declared and existing models. Pure: same inputs, same plan.

    ``observed`` must already be limited to the workspace's own models (the provider filters by
    ownership marker); models owned by another workspace are refused here as a bug guard.
    """
    foreign = [m.id for m in observed if m.owner is None or m.owner.workspace != options.workspace]
    if foreign:
        raise ValueError(f"observed models outside workspace {options.workspace!r}: {foreign}")

    wanted = {} if options.destroy else {d.name: d for d in desired}
    by_name: dict[str, list[RemoteModel]] = {}
    for m in observed:
        assert m.owner is not None
        by_name.setdefault(m.owner.name, []).append(m)

    names = sorted(set(wanted) | set(by_name))
    if options.targets:
        unknown = sorted(options.targets - set(names) - {d.name for d in desired})
        if unknown:
            raise UserError(f"--target {', '.join(unknown)}: no such model in manifests or remote")
        names = [n for n in names if n in options.targets]

    changes: list[Change] = []
    errors: list[Diagnostic] = []
    protected = {d.name: d for d in desired if d.prevent_destroy}
    for name in names:
        remotes = sorted(by_name.get(name, []), key=_age_key)
        d = wanted.get(name)
        if d is None:
            name_changes = _plan_removed(name, remotes)
            guard = protected.get(name)
            for c in name_changes:
                owner_protects = any(
                    r.owner is not None and r.owner.prevent_destroy and r.id == c.remote
                    for r in remotes
                )
                if guard is not None or owner_protects:
                    where = guard.location if guard is not None else None
                    errors.append(
                        Diagnostic(
                            f"{c.remote} would be destroyed, but lifecycle.preventDestroy is set;"
                            " set it to false and apply before removing or destroying this model",
                            where,
                            "spec.lifecycle.preventDestroy" if guard is not None else name,
                        )
                    )
            changes.extend(name_changes)
        else:
            changes.extend(_plan_declared(d, remotes, options.workspace))
    if errors:
        raise UserError(errors)

    changes.sort(key=lambda c: (c.name, _ACTION_ORDER[c.action], c.remote or ""))
    return Plan(
        workspace=options.workspace,
        backend=backend,
        changes=tuple(changes),
        observed_digest=observed_digest(observed),
        desired_digest=desired_digest(desired),
        destroy=options.destroy,
        targets=tuple(sorted(options.targets)),
    )


def _age_key(m: RemoteModel) -> tuple[str, str]:
    return (m.create_time, m.id)


def _plan_removed(name: str, remotes: list[RemoteModel]) -> list[Change]:
    out = []
    for r in remotes:
        if r.state is State.TRAINING:
            out.append(_retire(name, r, Action.CANCEL, "the manifest is gone; stop training"))
        else:
            out.append(_retire(name, r, Action.DELETE, "the manifest is gone"))
    return out


def _retire(name: str, r: RemoteModel, action: Action, reason: str) -> Change:
    return Change(
        name=name,
        action=action,
        reasons=(reason,),
        remote=r.id,
        remote_state=r.state,
        diff=(AttributeChange("model", r.id, None),),
    )


_STATE_RANK = {State.ACTIVE: 0, State.TRAINING: 1, State.FAILED: 2}


def _plan_declared(d: DesiredModel, remotes: list[RemoteModel], workspace: str) -> list[Change]:
    new_id = tuned_model_id(workspace, d.name, d.fingerprint)
    matching = [r for r in remotes if r.owner is not None and r.owner.fingerprint == d.fingerprint]
    # The current model: the deterministic ID if present, else the best adopted match (import).
    matching.sort(key=lambda r: (r.id != new_id, _STATE_RANK[r.state], _age_key(r)))
    current = matching[0] if matching else None
    others = [r for r in remotes if r is not current]

    out: list[Change] = []
    retiring_later: list[str] = []
    previous: list[RemoteModel] = []  # superseded ACTIVE models, once the current one is ACTIVE
    for r in others:
        is_duplicate = r in matching
        why = f"duplicate of {current.id}" if is_duplicate and current else "superseded"
        if r.state is State.TRAINING:
            out.append(_retire(d.name, r, Action.CANCEL, f"{why}; stop its training"))
        elif r.state is State.FAILED:
            out.append(_retire(d.name, r, Action.DELETE, f"{why} and FAILED"))
        elif current is None or current.state is not State.ACTIVE:
            retiring_later.append(r.id)  # kept serving until its replacement is ACTIVE
        elif is_duplicate:
            out.append(_retire(d.name, r, Action.DELETE, f"{why}, which is ACTIVE"))
        else:
            previous.append(r)
    # lifecycle.retainPrevious: keep the N most recently serving superseded models for rollback.
    previous.sort(key=lambda r: (r.update_time, r.create_time, r.id), reverse=True)
    for r in previous[d.retain_previous :]:
        assert current is not None
        out.append(
            _retire(d.name, r, Action.DELETE, f"superseded by {current.id}, which is ACTIVE")
        )

    if current is None:
        basis = _attributes_of(_latest(remotes)) if remotes else {}
        diff = _diff(basis, _attributes_of_desired(d))
        if not remotes:
            reasons: tuple[str, ...] = ("not found",)
        else:
            reasons = tuple(f"{c.path} changed" for c in _immutable_changes(diff)) or (
                "the training data or preamble changed",
            )
        out.append(
            Change(
                name=d.name,
                action=Action.REPLACE if retiring_later else Action.CREATE,
                reasons=reasons,
                remote=retiring_later[-1] if retiring_later else None,
                remote_state=State.ACTIVE if retiring_later else None,
                new_id=new_id,
                diff=diff,
                superseded=tuple(retiring_later),
                desired=d,
                notes=_epoch_notes(d, remotes) if retiring_later else (),
            )
        )
        return out

    diff = _diff(_attributes_of(current), _attributes_of_desired(d))
    immutable = _immutable_changes(diff)
    if current.state is State.FAILED:
        why = f"{current.id} FAILED" + (f": {current.error}" if current.error else "")
        out.append(_train(d, Action.RECREATE, (why,), current, new_id, diff, retiring_later))
    elif immutable:
        drifted = ", ".join(c.path for c in immutable)
        reason = f"{drifted} changed outside Git; the model no longer matches its manifest"
        out.append(_train(d, Action.RECREATE, (reason,), current, new_id, diff, retiring_later))
    elif current.state is State.TRAINING:
        mutable = _mutable_changes(diff)
        if mutable:
            out.append(_update(d, current, mutable))
        out.append(
            Change(
                d.name,
                Action.IN_PROGRESS,
                ("training",),
                current.id,
                current.state,
                superseded=tuple(retiring_later),
                desired=d,
            )
        )
    else:
        mutable = _mutable_changes(diff)
        marker_stale = current.owner is not None and (
            current.owner.prevent_destroy != d.prevent_destroy
        )
        newer = [r.id for r in previous if r.update_time > current.update_time]
        if newer:
            # A revert: the manifest matches a model kept by retainPrevious. Patching it makes it
            # the most recently updated, i.e. current again, with no training.
            reason = f"the manifest matches previous model {current.id}: no training needed"
            out.append(
                Change(
                    d.name,
                    Action.RESTORE,
                    (reason, f"{', '.join(newer)} becomes previous"),
                    current.id,
                    current.state,
                    diff=mutable,
                    desired=d,
                )
            )
        elif mutable or marker_stale:
            out.append(_update(d, current, mutable, marker_stale))
        else:
            out.append(Change(d.name, Action.NO_OP, (), current.id, current.state, desired=d))
    return out


def _epoch_notes(d: DesiredModel, remotes: list[RemoteModel]) -> tuple[str, ...]:
    """What the last finished training run says about ``epochCount``, when it disagrees with
    the manifest (the loss-curve rule lives in ``gitops_tune.loss``)."""
    finished = [r for r in remotes if r.state is State.ACTIVE and r.snapshots]
    if not finished:
        return ()
    last = max(finished, key=_age_key)
    analysis = analyze(last.snapshots, finished=True)
    declared = d.hyperparameters.epochs
    if not analysis.differs_from(declared):
        return ()
    if analysis.recommended is not None:
        advice = f"recommended epochCount: {analysis.recommended}"
    else:
        advice = f"recommended epochCount: more than {analysis.epochs[-1].epoch}"
    return (
        f"the last training run ({last.id}): {analysis.verdict}; {advice} (declared: {declared})",
    )


def _train(
    d: DesiredModel,
    action: Action,
    reasons: tuple[str, ...],
    current: RemoteModel,
    new_id: str,
    diff: tuple[AttributeChange, ...],
    retiring_later: list[str],
) -> Change:
    return Change(
        d.name,
        action,
        reasons,
        current.id,
        current.state,
        new_id=new_id,
        diff=diff,
        superseded=tuple(retiring_later),
        desired=d,
    )


def _update(
    d: DesiredModel,
    current: RemoteModel,
    mutable: tuple[AttributeChange, ...],
    marker_stale: bool = False,
) -> Change:
    reasons = tuple(f"{c.path} changed" for c in mutable)
    if marker_stale:
        reasons += (f"lifecycle.preventDestroy is now {str(d.prevent_destroy).lower()}",)
    return Change(
        d.name, Action.UPDATE, reasons, current.id, current.state, diff=mutable, desired=d
    )


def _immutable_changes(diff: tuple[AttributeChange, ...]) -> tuple[AttributeChange, ...]:
    return tuple(c for c in diff if c.path.split(".")[0] in ("baseModel", "hyperparameters"))


def _mutable_changes(diff: tuple[AttributeChange, ...]) -> tuple[AttributeChange, ...]:
    return tuple(c for c in diff if c.path in ("displayName", "description"))


def _latest(remotes: list[RemoteModel]) -> RemoteModel:
    return max(remotes, key=_age_key)


def _attributes_of(r: RemoteModel) -> dict[str, Any]:
    return {
        "displayName": r.display_name,
        "description": r.description,
        "baseModel": r.base_model,
        "hyperparameters": r.hyperparameters.fields(),
        "fingerprint": r.owner.fingerprint if r.owner else None,
    }


def _attributes_of_desired(d: DesiredModel) -> dict[str, Any]:
    return {
        "displayName": d.display_name,
        "description": d.description,
        "baseModel": d.base_model,
        "hyperparameters": d.hyperparameters.fields(),
        "fingerprint": d.fingerprint,
    }


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[AttributeChange, ...]:
    """Attribute changes via deepdiff; floats compare to 7 significant digits (the API answers
    in float32, so 0.001 comes back as 0.0010000000474974513)."""
    if not before:
        return tuple(AttributeChange(k, None, v) for k, v in sorted(after.items()))
    if _same(before, after):  # the common case, at a fraction of a DeepDiff call
        return ()
    from deepdiff import DeepDiff  # lazy: costs ~0.15 s to import

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


def _same(before: Any, after: Any) -> bool:
    """True only where `_diff`'s DeepDiff would find no change: same keys, equal strings and
    equal numbers as DeepDiff rounds and formats them (7 digits, "e" notation, int and float
    alike). Anything it is not sure of is "not the same", and DeepDiff decides."""
    if type(before) is dict and type(after) is dict:
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
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
