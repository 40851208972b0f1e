"""The planner: ``plan(desired, observed, options) -> Plan``, a pure function.

It reads no files, calls no API and looks at no clock: every run recomputes the whole picture
from what is declared and what exists, so a run that was interrupted anywhere is repaired by
the next one (level-triggered, like a Kubernetes controller).

For each manifest name the observed models split into the *current* one (its ownership marker
carries the desired fingerprint) and *superseded* ones (anything else owned under that name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from gitops_tune.desired import DesiredModel
from gitops_tune.errors import Diagnostic, UserError
from gitops_tune.plan import stages
from gitops_tune.plan.advice import epoch_notes as _epoch_notes
from gitops_tune.plan.diff import (
    attributes_of,
    attributes_of_desired,
    diff,
    immutable_changes,
    mutable_changes,
    reasons_of,
)
from gitops_tune.plan.gate import Gate, GateStatus, gated_change, usable
from gitops_tune.plan.gate import notes as gate_notes
from gitops_tune.plan.gate import status as gate_status
from gitops_tune.plan.ids import desired_digest, observed_digest, tuned_model_id
from gitops_tune.plan.model import (
    Action,
    AttributeChange,
    Change,
    Plan,
    PlanOptions,
    Reason,
)
from gitops_tune.plan.retirement import with_retirements
from gitops_tune.plan.training import further_notes
from gitops_tune.providers.base import RemoteModel, State


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

    changes: list[Change] = []
    errors: list[Diagnostic] = []
    protected = {d.name: d for d in desired if d.prevent_destroy}
    targets = stages.targets(options.targets, desired, options.destroy)
    for name in _names(wanted, by_name, desired, targets):
        remotes = sorted(by_name.get(name, []), key=_age_key)
        d = wanted.get(name)
        if d is None:
            removed = _plan_removed(name, remotes, options.destroy)
            errors += _protection_errors(removed, remotes, protected.get(name))
            changes += removed
        else:
            changes += _plan_declared(d, remotes, options.workspace)
    if errors:
        raise UserError(errors)

    if options.stop_training:
        note = f"stop training: {options.stop_training}"
        changes = [
            replace(c, notes=(*c.notes, note)) if c.action is Action.CANCEL else c for c in changes
        ]
    changes = with_retirements(stages.carry_parents(further_notes(changes), by_name), observed)
    changes = stages.in_order(changes, desired)
    return Plan(
        workspace=options.workspace,
        backend=backend,
        changes=tuple(changes),
        observed_digest=observed_digest(observed),
        desired_digest=desired_digest(desired),
        destroy=options.destroy,
        targets=tuple(sorted(options.targets)),
    )


def _names(
    wanted: dict[str, DesiredModel],
    by_name: dict[str, list[RemoteModel]],
    desired: Sequence[DesiredModel],
    targets: frozenset[str],
) -> list[str]:
    """The names to plan, sorted: every declared or observed one, or only the ``--target``s."""
    names = sorted(set(wanted) | set(by_name))
    if not targets:
        return names
    unknown = sorted(targets - set(names) - {d.name for d in desired})
    if unknown:
        raise UserError(f"--target {', '.join(unknown)}: no such model in manifests or remote")
    return [n for n in names if n in targets]


def _protection_errors(
    removed: list[Change], remotes: list[RemoteModel], guard: DesiredModel | None
) -> list[Diagnostic]:
    """lifecycle.preventDestroy, in the manifest (``guard``) or in a model's marker, refuses
    every removal planned for the name."""
    errors = []
    for c in removed:
        owner_protects = any(
            r.owner is not None and r.owner.prevent_destroy and r.id == c.remote for r in remotes
        )
        if guard is not None or owner_protects:
            errors.append(
                Diagnostic(
                    f"{c.remote} would be destroyed, but lifecycle.preventDestroy is set;"
                    " set it to false and apply before removing or destroying this model",
                    guard.location if guard is not None else None,
                    "spec.lifecycle.preventDestroy" if guard is not None else c.name,
                )
            )
    return errors


def _age_key(m: RemoteModel) -> tuple[str, str]:
    return (m.create_time, m.id)


def _plan_removed(name: str, remotes: list[RemoteModel], destroy: bool) -> list[Change]:
    """No manifest for the name (or ``destroy``): every model under it goes."""
    code = Reason.DESTROY if destroy else Reason.REMOVED_FROM_MANIFESTS
    out = []
    for r in remotes:
        if not r.removable:  # e.g. a failed Vertex AI job: nothing is left to delete
            continue
        if r.state is State.TRAINING:
            why = "the manifest is gone; stop training"
            out.append(_retire(name, r, Action.CANCEL, why, (code,)))
        else:
            out.append(_retire(name, r, Action.DELETE, "the manifest is gone", (code,)))
    return out


def _retire(
    name: str, r: RemoteModel, action: Action, reason: str, codes: tuple[Reason, ...]
) -> Change:
    return Change(
        name=name,
        action=action,
        reasons=(reason,),
        remote=r.id,
        remote_state=r.state,
        diff=(AttributeChange("model", r.id, None),),
        reason_codes=codes,
    )


_STATE_RANK = {State.ACTIVE: 0, State.TRAINING: 1, State.FAILED: 2}


@dataclass
class _Others:
    """What becomes of a name's models other than the current one."""

    retired: list[Change]  # cancelled or deleted by this plan
    retiring_later: list[str]  # kept serving until the current model is ACTIVE
    previous: list[RemoteModel]  # superseded ACTIVE models, most recently serving first


def _plan_declared(d: DesiredModel, remotes: list[RemoteModel], workspace: str) -> list[Change]:
    new_id = tuned_model_id(workspace, d.name, d.fingerprint)
    current = _current(d, remotes, new_id)
    found = gate_status(d, current, remotes)
    others = _sort_others(d, remotes, current, found.gate is Gate.OPEN)
    out = others.retired
    if current is None:
        out.append(_plan_training(d, remotes, new_id, others.retiring_later))
    else:
        out += _retire_beyond_retention(d, current, others.previous)
        out += _plan_current(d, current, new_id, others, found)
    notes = gate_notes(d, remotes)
    if notes and out and out[-1].desired is not None:
        out[-1] = replace(out[-1], notes=(*out[-1].notes, *notes))
    return out


def _current(d: DesiredModel, remotes: list[RemoteModel], new_id: str) -> RemoteModel | None:
    """The model whose marker carries the manifest's fingerprint: the deterministic ID if
    present, else the best adopted match (import)."""
    matching = [r for r in remotes if _matches(r, d)]
    matching.sort(key=lambda r: (r.id != new_id, _STATE_RANK[r.state], _age_key(r)))
    return matching[0] if matching else None


def _matches(r: RemoteModel, d: DesiredModel) -> bool:
    return r.owner is not None and r.owner.fingerprint == d.fingerprint


def _sort_others(
    d: DesiredModel, remotes: list[RemoteModel], current: RemoteModel | None, admitted: bool
) -> _Others:
    """``admitted``: the current model passed its evaluation gate (or has none)."""
    others = _Others([], [], [])
    serving = current is not None and usable(d, current) and admitted
    for r in remotes:
        if r is current or not r.removable:
            continue
        dup = _matches(r, d)  # current matches too
        why = f"duplicate of {current.id}" if current and dup else "superseded"
        code = Reason.DUPLICATE if dup else Reason.SUPERSEDED
        if r.state is State.TRAINING:
            retire = _retire(d.name, r, Action.CANCEL, f"{why}; stop its training", (code,))
            others.retired.append(retire)
        elif r.state is State.FAILED and not usable(d, r):
            retire = _retire(d.name, r, Action.DELETE, f"{why} and FAILED", (code, Reason.FAILED))
            others.retired.append(retire)
        elif not serving:
            others.retiring_later.append(r.id)
        elif dup:
            retire = _retire(d.name, r, Action.DELETE, f"{why}, which is ACTIVE", (code,))
            others.retired.append(retire)
        else:
            others.previous.append(r)
    others.previous.sort(key=lambda r: (r.update_time, r.create_time, r.id), reverse=True)
    return others


def _retire_beyond_retention(
    d: DesiredModel, current: RemoteModel, previous: list[RemoteModel]
) -> list[Change]:
    """lifecycle.retainPrevious: keep the N most recently serving superseded models for
    rollback; the rest go now that the current model is ACTIVE."""
    why = f"superseded by {current.id}, which is ACTIVE"
    codes = (Reason.SUPERSEDED, Reason.BEYOND_RETAIN_PREVIOUS)
    return [_retire(d.name, r, Action.DELETE, why, codes) for r in previous[d.retain_previous :]]


def _plan_training(
    d: DesiredModel, remotes: list[RemoteModel], new_id: str, retiring_later: list[str]
) -> Change:
    """No current model: train one (create, or replace what still serves)."""
    basis = attributes_of(max(remotes, key=_age_key), d) if remotes else {}
    changes = diff(basis, attributes_of_desired(d))
    immutable = immutable_changes(changes)
    if not remotes:
        reasons: tuple[str, ...] = ("not found",)
        codes: tuple[Reason, ...] = (Reason.NOT_FOUND,)
    elif immutable:
        reasons = tuple(f"{c.path} changed" for c in immutable)
        codes = reasons_of(immutable)
    else:
        reasons = ("the training data or preamble changed",)
        codes = (Reason.DATASET_CHANGED,)
    return Change(
        name=d.name,
        action=Action.REPLACE if retiring_later else Action.CREATE,
        reasons=reasons,
        remote=retiring_later[-1] if retiring_later else None,
        remote_state=State.ACTIVE if retiring_later else None,
        new_id=new_id,
        diff=changes,
        superseded=tuple(retiring_later),
        desired=d,
        notes=_epoch_notes(d, remotes) if retiring_later else (),
        reason_codes=codes,
    )


def _plan_current(
    d: DesiredModel, current: RemoteModel, new_id: str, others: _Others, found: GateStatus
) -> list[Change]:
    """The current model exists: retrain it, wait for it, restore, update it, or nothing."""
    changes = diff(attributes_of(current, d), attributes_of_desired(d))
    immutable = immutable_changes(changes)
    if current.state is State.FAILED and (not usable(d, current) or found.gate is Gate.REJECTED):
        why = f"{current.id} FAILED" + (f": {current.error}" if current.error else "")
        if found.judgement is not None:  # cancelled mid-training, evaluated, and rejected
            why += f"; {found.judgement.why.split(';')[0]}"
        return [_retrain(d, current, new_id, changes, others, (why,), Reason.FAILED)]
    if immutable:
        drifted = ", ".join(c.path for c in immutable)
        reason = f"{drifted} changed outside Git; the model no longer matches its manifest"
        code = Reason.CHANGED_OUTSIDE_GIT
        return [_retrain(d, current, new_id, changes, others, (reason,), code)]
    mutable = mutable_changes(changes)
    if current.state is State.TRAINING:
        training = Change(
            d.name,
            Action.IN_PROGRESS,
            ("training",),
            current.id,
            current.state,
            superseded=tuple(others.retiring_later),
            desired=d,
            reason_codes=(Reason.TRAINING,),
        )
        return [_update(d, current, mutable), training] if mutable else [training]
    if found.gate in (Gate.UNSCORED, Gate.REJECTED):
        held = gated_change(d, current, found, others.retiring_later)
        return [_update(d, current, mutable), held] if mutable else [held]
    return [_plan_serving(d, current, mutable, others.previous)]


def _plan_serving(
    d: DesiredModel,
    current: RemoteModel,
    mutable: tuple[AttributeChange, ...],
    previous: list[RemoteModel],
) -> Change:
    """The current model is ACTIVE: restore it, patch it, or leave it."""
    marker_stale = current.owner is not None and (
        current.owner.prevent_destroy != d.prevent_destroy
    )
    newer = [r.id for r in previous if r.update_time > current.update_time]
    if newer:
        # A revert: the manifest matches a model kept by retainPrevious. Patching it makes it
        # the most recently updated, i.e. current again, with no training.
        reason = f"the manifest matches previous model {current.id}: no training needed"
        return Change(
            d.name,
            Action.RESTORE,
            (reason, f"{', '.join(newer)} becomes previous"),
            current.id,
            current.state,
            diff=mutable,
            desired=d,
            reason_codes=(Reason.MATCHES_PREVIOUS,),
        )
    if mutable or marker_stale:
        return _update(d, current, mutable, marker_stale)
    return Change(d.name, Action.NO_OP, (), current.id, current.state, desired=d)


def _retrain(
    d: DesiredModel,
    current: RemoteModel,
    new_id: str,
    changes: tuple[AttributeChange, ...],
    others: _Others,
    reasons: tuple[str, ...],
    code: Reason,
) -> Change:
    """Recreate: delete the current model and train it again."""
    return Change(
        d.name,
        Action.RECREATE,
        reasons,
        current.id,
        current.state,
        new_id=new_id,
        diff=changes,
        superseded=tuple(others.retiring_later),
        desired=d,
        reason_codes=(code,),
    )


def _update(
    d: DesiredModel,
    current: RemoteModel,
    mutable: tuple[AttributeChange, ...],
    marker_stale: bool = False,
) -> Change:
    reasons = tuple(f"{c.path} changed" for c in mutable)
    codes = reasons_of(mutable)
    if marker_stale:
        reasons += (f"lifecycle.preventDestroy is now {str(d.prevent_destroy).lower()}",)
        codes += (Reason.PREVENT_DESTROY_CHANGED,)
    return Change(
        d.name,
        Action.UPDATE,
        reasons,
        current.id,
        current.state,
        diff=mutable,
        desired=d,
        reason_codes=codes,
    )
