"""Apply's side of stages (``spec.from.model``): pipelines to run in order, whether a parent
is ready for its child, and the parent checkpoint the child starts from."""

from __future__ import annotations

from collections.abc import Mapping

from gitops_tune.desired import DesiredModel, graph
from gitops_tune.desired.state import Stage
from gitops_tune.plan import Change
from gitops_tune.plan.gate import Gate, GateStatus
from gitops_tune.providers.base import ProviderError, RemoteModel, State


class Deferred(Exception):
    """A stage whose parent is not ready yet, in an apply that does not wait."""


def pipelines(
    groups: Mapping[str, list[Change]], parents: Mapping[str, str], children_first: bool
) -> list[list[list[Change]]]:
    """``groups`` (one per name) by pipeline (the names of a graph's tree, `graph.root`), in
    topological order: parents first, or children first."""
    chains: dict[str, list[list[Change]]] = {}
    for name in graph.topological(groups, parents):
        chains.setdefault(graph.root(name, parents), []).append(groups[name])
    return [chain[::-1] if children_first else chain for chain in chains.values()]


def parent_problem(d: DesiredModel, current: RemoteModel | None, found: GateStatus) -> str:
    """Why the parent ``d`` is not ready: raised as an error when it cannot become ready."""
    if current is None:
        raise ProviderError(f"parent {d.name} has no model to continue from")
    if current.state is State.FAILED:
        error = f": {current.error}" if current.error else ""
        raise ProviderError(f"parent {d.name} ({current.id}) FAILED{error}")
    if found.gate is Gate.REJECTED:
        why = found.judgement.why if found.judgement is not None else "below its gate"
        raise ProviderError(f"parent {d.name} was rejected by its evaluation: {why}")
    if found.gate is Gate.UNSCORED:
        return f"parent {d.name} is ACTIVE but not scored on its evaluation yet"
    return f"waits for parent {d.name} ({current.id}) to be ACTIVE"


def checkpoint_id(parent: RemoteModel, stage: Stage) -> str:
    """The ID of the parent's checkpoint ``stage`` names ("last" or an epoch); "" where the
    backend lists no checkpoints (the parent's default)."""
    if not parent.checkpoints:
        return ""
    if stage.checkpoint == "last":
        return max(parent.checkpoints, key=lambda c: (c.epoch, c.step)).checkpoint_id
    found = [c for c in parent.checkpoints if str(c.epoch) == stage.checkpoint]
    if not found:
        raise ProviderError(f"parent {parent.id} has no checkpoint for epoch {stage.checkpoint}")
    return max(found, key=lambda c: c.step).checkpoint_id
