"""The evaluation gate as the planner sees it: whether a name's current model has been scored
on the declared evaluation, whether those scores let it serve, and which model serves
meanwhile. Pure: the scores arrive on `RemoteModel.scores` (read from the markers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from gitops_tune.desired import DesiredModel
from gitops_tune.evaluation import Judgement, judge
from gitops_tune.plan.model import Action, Change, Reason
from gitops_tune.providers.base import RemoteModel, State


class Gate(str, Enum):
    OPEN = "open"  # no evaluation declared, or the model passed: it may serve
    UNSCORED = "unscored"  # ACTIVE, but not (or not both) scored on this evaluation yet
    REJECTED = "rejected"  # scored, and below what it had to reach
    CLOSED = "closed"  # not ACTIVE yet


@dataclass(frozen=True)
class GateStatus:
    gate: Gate
    baseline: RemoteModel | None = None  # the model serving meanwhile (noRegression's rival)
    judgement: Judgement | None = None


def usable(d: DesiredModel, r: RemoteModel) -> bool:
    """Can ``r`` serve ``d`` once it passes? ACTIVE, or, with an evaluation declared, a model
    cancelled mid-training: usable but unpredictable (the fine-tuning guide, "Canceled
    models"), so it is evaluated like any other. Without one it counts as FAILED, as before."""
    return r.state is State.ACTIVE or (r.cancelled and d.evaluation is not None)


def serving_before(d: DesiredModel, remotes: Sequence[RemoteModel]) -> RemoteModel | None:
    """The superseded model that serves until the current one passes: the most recently
    serving ACTIVE one that was not itself rejected (a cancelled one only if it passed)."""
    candidates = [
        r
        for r in remotes
        if (r.state is State.ACTIVE or (usable(d, r) and r.scores is not None))
        and r.owner is not None
        and r.owner.fingerprint != d.fingerprint
        and (r.scores is None or r.scores.verdict != "rejected")
    ]
    return max(candidates, key=lambda r: (r.update_time, r.create_time, r.id), default=None)


def status(
    d: DesiredModel, current: RemoteModel | None, remotes: Sequence[RemoteModel]
) -> GateStatus:
    if current is None or not usable(d, current):
        return GateStatus(Gate.CLOSED)
    spec = d.evaluation
    if spec is None:
        return GateStatus(Gate.OPEN)
    before = serving_before(d, remotes)
    mine = current.scores
    if mine is None or mine.key != spec.key:
        return GateStatus(Gate.UNSCORED, before)
    rival = None
    if spec.no_regression and before is not None:
        if before.scores is None or before.scores.key != spec.key:
            return GateStatus(Gate.UNSCORED, before)
        rival = before.scores.score
    verdict = judge(spec, mine.score, rival)
    return GateStatus(Gate.OPEN if verdict.passed else Gate.REJECTED, before, verdict)


def serving(d: DesiredModel, remotes: Sequence[RemoteModel]) -> RemoteModel | None:
    """What an application should call for ``d``: its current model once it may serve;
    with an evaluation declared, the model serving before until then."""
    matching = [r for r in remotes if r.owner is not None and r.owner.fingerprint == d.fingerprint]
    current = next((r for r in matching if usable(d, r)), None)
    found = status(d, current, remotes)
    if found.gate is Gate.OPEN:
        return current
    return found.baseline if d.evaluation is not None else None


def notes(d: DesiredModel, remotes: Sequence[RemoteModel]) -> tuple[str, ...]:
    """The line the plan shows under a gated model: the serving model's last score next to
    the threshold, so reviewers see what a change must beat."""
    spec = d.evaluation
    if spec is None:
        return ()
    rule = f"minScore {spec.min_score:.2f}"
    if spec.no_regression:
        rule += f", noRegression (tolerance {spec.tolerance:g})"
    now = serving(d, remotes)
    if now is not None and now.scores is not None and now.scores.key == spec.key:
        scored = f"{now.id} scores {now.scores.score:.4f}"
    elif now is not None:
        scored = f"{now.id} not scored on this evaluation yet"
    else:
        scored = "no model serves yet"
    where = f"{spec.metric} on {spec.shown}, {spec.count} examples"
    return (f"evaluation ({where}): {scored}; gate: {rule}", *_best(d, remotes))


def _best(d: DesiredModel, remotes: Sequence[RemoteModel]) -> tuple[str, ...]:
    """``serving.checkpoint: best``: the checkpoint chosen for the current model, with each
    checkpoint's score, or that the next ``apply --wait`` chooses it."""
    if d.evaluation is None or not d.evaluation.per_checkpoint:
        return ()
    mine = [r for r in remotes if r.owner is not None and r.owner.fingerprint == d.fingerprint]
    chosen = next(
        (r.scores for r in mine if r.scores is not None and r.scores.key == d.evaluation.key),
        None,
    )
    if chosen is not None and chosen.best:
        return (chosen.best_line(),)
    return (
        "checkpoint best: not chosen yet; `gitops-tune apply --wait` scores each checkpoint "
        "on spec.evaluation once the model is ACTIVE and serves the best one",
    )


def gated_change(
    d: DesiredModel, current: RemoteModel, found: GateStatus, retiring_later: Sequence[str]
) -> Change:
    """The current model is ACTIVE but may not serve yet: evaluate it, or say it was rejected.
    Either way the models serving before are kept (``superseded``, retired only once it
    passes); a failed evaluation never deletes anything."""
    if found.gate is Gate.REJECTED:
        assert found.judgement is not None
        action, reasons, code = Action.REJECTED, (found.judgement.why,), Reason.EVALUATION_FAILED
    else:
        action, code = Action.EVALUATE, Reason.NOT_EVALUATED
        reasons = ("ACTIVE; not scored on spec.evaluation yet: it serves only if it passes",)
        if current.scores is not None and found.judgement is None and d.evaluation is not None:
            if current.scores.key != d.evaluation.key:
                reasons = ("spec.evaluation changed since it was scored: score it again",)
            else:
                reasons = ("noRegression: the serving model is not scored on this set yet",)
    return Change(
        d.name,
        action,
        reasons,
        current.id,
        current.state,
        superseded=tuple(retiring_later) if action is Action.EVALUATE else (),
        desired=d,
        reason_codes=(code,),
    )
