"""Whether a score lets a model serve: ``minScore``, and with ``noRegression`` the serving
model's score on the same set minus the declared tolerance. Pure; the planner and apply both
ask it, so they never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_tune.evaluation.spec import EvaluationSpec

ADVICE = "change the data or the threshold"


@dataclass(frozen=True)
class Judgement:
    passed: bool
    needed: float  # the score it had to reach
    why: str  # one sentence: "passed at score 0.91 >= 0.80", "rejected at score X < Y; ..."


def judge(spec: EvaluationSpec, score: float, baseline: float | None) -> Judgement:
    """``baseline``: the serving model's score on the same set (None: no model serves)."""
    needed, against = spec.min_score, f"minScore {spec.min_score:.2f}"
    if spec.no_regression and baseline is not None and baseline - spec.tolerance > needed:
        needed = baseline - spec.tolerance
        against = f"the serving model's {baseline:.4f}"
        against += f" - tolerance {spec.tolerance:g}" if spec.tolerance else ""
    if score >= needed - 1e-9:
        return Judgement(True, needed, f"passed at score {score:.4f} >= {needed:.4f} ({against})")
    why = f"rejected at score {score:.4f} < {needed:.4f} ({against}); {ADVICE}"
    return Judgement(False, needed, why)
