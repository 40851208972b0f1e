"""The planner's graph of stages (``spec.from.model``), like Terraform's resource graph: the
plan lists parents before their children, ``--target NAME`` plans its ancestors too, and a
parent's retrain is carried to each descendant as its reason ("parent NAME changes"), since
the child's fingerprint holds its parent's (`gitops_tune.desired.state.Stage`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from gitops_tune.desired import DesiredModel, graph
from gitops_tune.desired.state import Stage
from gitops_tune.plan.model import ACTION_ORDER, Action, AttributeChange, Change, Reason
from gitops_tune.providers.base import RemoteModel


def parents(desired: Sequence[DesiredModel]) -> dict[str, str]:
    return {d.name: d.stage.parent for d in desired if d.stage is not None}


def targets(
    names: frozenset[str], desired: Sequence[DesiredModel], destroy: bool
) -> frozenset[str]:
    """``--target`` names with the models they continue from (a child is trained from its
    parent's model, so planning it alone could not create it). Destroy removes what it is
    told, children first, and leaves the parents."""
    return names if destroy or not names else graph.with_ancestors(names, parents(desired))


def in_order(changes: list[Change], desired: Sequence[DesiredModel]) -> list[Change]:
    """Parents before their children, otherwise by name; then as `ACTION_ORDER` says."""
    rank = {
        n: i for i, n in enumerate(graph.topological({c.name for c in changes}, parents(desired)))
    }
    return sorted(changes, key=lambda c: (rank[c.name], ACTION_ORDER[c.action], c.remote or ""))


def carry_parents(changes: list[Change], observed: Mapping[str, list[RemoteModel]]) -> list[Change]:
    """Each change of a stage names its parent (``depends_on``); a stage trained again because
    its parent is (or was) retrained says so: "parent NAME changes", `Reason.PARENT_CHANGED`,
    and one trained again because ``from.checkpoint`` changed says that:
    `Reason.FROM_CHECKPOINT_CHANGED`. When these alone explain the new fingerprint (the
    child's own inputs match a model of the parent's that exists), they are the only reasons;
    otherwise they join the child's own."""
    retrained = {c.name for c in changes if c.action.trains}
    epochs = {c.name: c.desired.hyperparameters.epochs for c in changes if c.desired is not None}
    out = []
    for c in changes:
        stage = c.desired.stage if c.desired is not None else None
        if stage is None:
            out.append(c)
            continue
        c = replace(c, depends_on=(stage.parent,))
        if c.action in (Action.CREATE, Action.REPLACE):
            remotes = observed.get(stage.parent, [])
            found = _Before(stage, remotes, epochs.get(stage.parent, 0))
            c = _parent_reason(c, stage, stage.parent in retrained, found)
            c = replace(c, notes=(*c.notes, _continues(stage)))
        out.append(c)
    return out


class _Before:
    """What the child's previous fingerprint was made from, found by making it again: each
    fingerprint of the parent that exists (the markers the tool wrote) and each checkpoint the
    child could have named ("last" or an epoch the parent has or had)."""

    def __init__(self, stage: Stage, remotes: list[RemoteModel], epochs: int) -> None:
        self.stage = stage
        self.parents = {r.owner.fingerprint for r in remotes if r.owner is not None}
        self.parents.add(stage.parent_fingerprint)
        most = max([epochs, *(k.epoch for r in remotes for k in r.checkpoints)])
        self.checkpoints = ["last", *(str(e) for e in range(1, most + 1))]

    def of(self, fingerprint: str) -> tuple[str, str] | None:
        """(the parent's fingerprint, the checkpoint) that made ``fingerprint``; None when the
        child's own inputs changed."""
        for parent in sorted(self.parents):
            for checkpoint in self.checkpoints:
                if self.stage.fingerprint_with(parent, checkpoint) == fingerprint:
                    return parent, checkpoint
        return None


def _parent_reason(c: Change, stage: Stage, retrains: bool, found: _Before) -> Change:
    before = next((a.before for a in c.diff if a.path == "fingerprint"), None)
    if not isinstance(before, str):  # nothing trained before under this name
        return c
    made = found.of(before)
    why = f"parent {stage.parent} {'changes' if retrains else 'changed'}"
    if made is None:  # the child's own inputs changed: its own reasons first
        if not retrains:
            return c
        return replace(
            c, reasons=(*c.reasons, why), reason_codes=(*c.reason_codes, Reason.PARENT_CHANGED)
        )
    parent, checkpoint = made
    reasons: list[str] = []
    codes: list[Reason] = []
    diff = c.diff
    if checkpoint != stage.checkpoint:
        reasons.append(f"from.checkpoint changed ({checkpoint} -> {stage.checkpoint})")
        codes.append(Reason.FROM_CHECKPOINT_CHANGED)
        moved = AttributeChange("from.checkpoint", checkpoint, stage.checkpoint)
        diff = tuple(sorted((*diff, moved), key=lambda a: a.path))
    if parent != stage.parent_fingerprint or retrains:
        reasons.append(why)
        codes.append(Reason.PARENT_CHANGED)
    if not reasons:
        return c
    return replace(c, reasons=tuple(reasons), reason_codes=tuple(codes), diff=diff)


def _continues(stage: Stage) -> str:
    gate = " and passed its evaluation" if stage.parent_gated else ""
    return (
        f"continues from {stage.parent} (checkpoint {stage.checkpoint}): created once "
        f"{stage.parent} is ACTIVE{gate}"
    )
