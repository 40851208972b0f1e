"""The planner's graph of stages (``spec.from.model``), like Terraform's resource graph: the
plan lists parents before their children, ``--target NAME`` plans its ancestors too, and a
parent's retrain is carried to each descendant as its reason ("parent NAME changes"), since
the child's fingerprint holds its parent's (`gitops_tune.desired.state.Stage`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from gitops_tune.desired import DesiredModel, graph
from gitops_tune.desired.state import Stage
from gitops_tune.plan.model import ACTION_ORDER, Action, Change, Reason
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
    its parent is (or was) retrained says so: "parent NAME changes", `Reason.PARENT_CHANGED`.
    When only the parent explains the new fingerprint (the child's own inputs match a model
    of the parent's that exists), that is the only reason; otherwise it joins the child's own."""
    retrained = {c.name for c in changes if c.action.trains}
    out = []
    for c in changes:
        stage = c.desired.stage if c.desired is not None else None
        if stage is None:
            out.append(c)
            continue
        c = replace(c, depends_on=(stage.parent,))
        if c.action in (Action.CREATE, Action.REPLACE):
            c = _parent_reason(c, stage, stage.parent in retrained, observed.get(stage.parent, []))
            c = replace(c, notes=(*c.notes, _continues(stage)))
        out.append(c)
    return out


def _parent_reason(c: Change, stage: Stage, retrains: bool, remotes: list[RemoteModel]) -> Change:
    before = next((a.before for a in c.diff if a.path == "fingerprint"), None)
    if before is None:  # nothing trained before under this name
        return c
    earlier = {r.owner.fingerprint for r in remotes if r.owner is not None}
    earlier.discard(stage.parent_fingerprint)
    only_parent = any(stage.fingerprint_with(fp) == before for fp in earlier)
    if not (only_parent or retrains):
        return c
    why = f"parent {stage.parent} {'changes' if retrains else 'changed'}"
    if only_parent:
        return replace(c, reasons=(why,), reason_codes=(Reason.PARENT_CHANGED,))
    return replace(
        c, reasons=(*c.reasons, why), reason_codes=(*c.reason_codes, Reason.PARENT_CHANGED)
    )


def _continues(stage: Stage) -> str:
    gate = " and passed its evaluation" if stage.parent_gated else ""
    return (
        f"continues from {stage.parent} (checkpoint {stage.checkpoint}): created once "
        f"{stage.parent} is ACTIVE{gate}"
    )
