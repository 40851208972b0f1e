"""Advice the plan gives without acting on it: what the last training run's loss curve says
about ``epochCount`` (the loss-curve rule lives in ``gitops_tune.loss``)."""

from __future__ import annotations

from gitops_tune.desired import DesiredModel
from gitops_tune.loss import analyze
from gitops_tune.providers.base import RemoteModel, State


def epoch_notes(d: DesiredModel, remotes: list[RemoteModel]) -> tuple[str, ...]:
    """What the last finished training run says about ``epochCount``, when it disagrees with
    the manifest (the loss-curve rule lives in ``gitops_tune.loss``)."""
    finished = [r for r in remotes if r.state is State.ACTIVE and r.snapshots]
    if not finished:
        return ()
    last = max(finished, key=lambda r: (r.create_time, r.id))
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
