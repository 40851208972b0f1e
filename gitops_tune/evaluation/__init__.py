"""Evaluation gates: how a tuned model's answers on a held-out set are scored (`metrics`), what
an evaluation declares (`spec`), whether a score lets a model serve (`gate`), and the run that
asks a model every question (`runner`). Pure logic: the model is reached through a function."""

from gitops_tune.evaluation.gate import Judgement, judge
from gitops_tune.evaluation.metrics import METRICS, LabelScore, Normalization, Result, score
from gitops_tune.evaluation.runner import evaluate
from gitops_tune.evaluation.spec import EvaluationSpec

__all__ = [
    "METRICS",
    "EvaluationSpec",
    "Judgement",
    "LabelScore",
    "Normalization",
    "Result",
    "evaluate",
    "judge",
    "score",
]
