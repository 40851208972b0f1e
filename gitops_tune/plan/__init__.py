"""The plan: what would change, as data (``model``), and the pure function that computes it
(``planner``), with attribute diffs (``diff``), IDs and digests (``ids``), saved plans
(``saved``) and the JSON plan's schema (``schema``). This face only re-exports."""

from gitops_tune.plan.gate import serving as serving_model
from gitops_tune.plan.gate import usable
from gitops_tune.plan.ids import desired_digest, observed_digest, tuned_model_id
from gitops_tune.plan.model import (
    FORMAT_VERSION,
    Action,
    AttributeChange,
    Change,
    Plan,
    PlanOptions,
    Reason,
)
from gitops_tune.plan.planner import plan

__all__ = [
    "FORMAT_VERSION",
    "Action",
    "AttributeChange",
    "Change",
    "Plan",
    "PlanOptions",
    "Reason",
    "desired_digest",
    "observed_digest",
    "plan",
    "serving_model",
    "tuned_model_id",
    "usable",
]
