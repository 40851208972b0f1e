"""The plan as data: actions, the reasons for them, attribute diffs, and the JSON plan.

Like Terraform's ``internal/plans``: an ``Action`` per change plus typed reasons
(``Reason``, Terraform's ``ActionReason``), and a JSON plan with a ``format_version``. The
renderers in ``gitops_tune.render`` only show this data; the planner
(``gitops_tune.plan.planner``) is the only code that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from gitops_tune.desired import DesiredModel
from gitops_tune.providers.base import Migration, Retirement, State

if TYPE_CHECKING:
    from gitops_tune.review.model import Review

# "2": each change carries ``reason_codes`` next to its ``reasons`` sentences.
# "3": the plan carries its ``review`` (dataset diff, data-quality findings, cost).
# "4": each change carries its ``retirements`` (what deleting each model it retires does, and
#      whether the backend is expected to refuse) and ``depends_on`` (the stage it continues
#      from, ``spec.from.model``); the plan its pending ``migration``.
FORMAT_VERSION = "4"


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
    EVALUATE = "evaluate"  # ACTIVE, not scored on its evaluation yet: score it, then promote
    REJECTED = "rejected"  # scored below its gate: the previous model keeps serving
    NO_OP = "no-op"

    @property
    def is_change(self) -> bool:
        return self not in (Action.NO_OP, Action.IN_PROGRESS, Action.REJECTED)

    @property
    def trains(self) -> bool:
        return self in (Action.CREATE, Action.REPLACE, Action.RECREATE)


# Order of display and execution within a name: destructive clean-up first frees IDs for reuse.
ACTION_ORDER = {
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
            Action.EVALUATE,
            Action.IN_PROGRESS,
            Action.REJECTED,
            Action.NO_OP,
        ]
    )
}


class Reason(str, Enum):
    """Why a change is planned, for machines (``reasons`` holds the sentences for people).

    A change lists each code once, in the order of its sentences. The values are the JSON
    plan's contract; ``REASON_DOCS`` says what each one means.
    """

    NOT_FOUND = "not_found"
    DATASET_CHANGED = "dataset_changed"
    BASE_MODEL_CHANGED = "base_model_changed"
    HYPERPARAMETERS_CHANGED = "hyperparameters_changed"
    TRAINING_OPTIONS_CHANGED = "training_options_changed"
    METHOD_CHANGED = "method_changed"
    DISPLAY_NAME_CHANGED = "display_name_changed"
    DESCRIPTION_CHANGED = "description_changed"
    SERVING_CHECKPOINT_CHANGED = "serving_checkpoint_changed"
    PREVENT_DESTROY_CHANGED = "prevent_destroy_changed"
    CHANGED_OUTSIDE_GIT = "changed_outside_git"
    FAILED = "failed"
    TRAINING = "training"
    MATCHES_PREVIOUS = "matches_previous"
    SUPERSEDED = "superseded"
    DUPLICATE = "duplicate"
    BEYOND_RETAIN_PREVIOUS = "beyond_retain_previous"
    REMOVED_FROM_MANIFESTS = "removed_from_manifests"
    DESTROY = "destroy"
    NOT_EVALUATED = "not_evaluated"
    EVALUATION_FAILED = "evaluation_failed"
    PARENT_CHANGED = "parent_changed"
    FROM_CHECKPOINT_CHANGED = "from_checkpoint_changed"


REASON_DOCS: dict[Reason, str] = {
    Reason.NOT_FOUND: "create: no model exists for the name",
    Reason.DATASET_CHANGED: "create/replace: the training data or preamble changed (the"
    " fingerprint), and neither baseModel nor a hyperparameter did",
    Reason.BASE_MODEL_CHANGED: "create/replace: baseModel changed",
    Reason.HYPERPARAMETERS_CHANGED: "create/replace: a hyperparameter changed",
    Reason.TRAINING_OPTIONS_CHANGED: "create/replace: preTunedModel, exportLastCheckpointOnly"
    " or encryptionSpec changed",
    Reason.METHOD_CHANGED: "create/replace: spec.method or one of its settings (such as"
    " preference beta) changed",
    Reason.DISPLAY_NAME_CHANGED: "update: displayName changed",
    Reason.DESCRIPTION_CHANGED: "update: description changed",
    Reason.SERVING_CHECKPOINT_CHANGED: "update: serving.checkpoint changed; the checkpoint"
    " exists, so no training",
    Reason.PREVENT_DESTROY_CHANGED: "update: lifecycle.preventDestroy changed (the marker)",
    Reason.CHANGED_OUTSIDE_GIT: "recreate: the current model's baseModel or hyperparameters"
    " were changed outside Git",
    Reason.FAILED: "recreate/delete: the model FAILED",
    Reason.TRAINING: "in-progress: the current model is training",
    Reason.MATCHES_PREVIOUS: "restore: the manifest matches a previous model again",
    Reason.SUPERSEDED: "cancel/delete: the model no longer matches its manifest",
    Reason.DUPLICATE: "cancel/delete: another model matches the manifest too",
    Reason.BEYOND_RETAIN_PREVIOUS: "delete: a superseded ACTIVE model that"
    " lifecycle.retainPrevious does not keep, now that the current model is ACTIVE",
    Reason.REMOVED_FROM_MANIFESTS: "cancel/delete: the manifest is gone",
    Reason.DESTROY: "cancel/delete: destroy (or plan --destroy) removes every model",
    Reason.NOT_EVALUATED: "evaluate: the current model is ACTIVE but not scored on its"
    " spec.evaluation yet (or, with noRegression, the serving model is not)",
    Reason.EVALUATION_FAILED: "rejected: the current model scored below its spec.evaluation"
    " gate; the previous model keeps serving",
    Reason.PARENT_CHANGED: "create/replace: the model this one continues from (spec.from.model)"
    " is retrained, so this one is trained again from the parent's new model",
    Reason.FROM_CHECKPOINT_CHANGED: "create/replace: spec.from.checkpoint changed, so this"
    " one is trained again from another checkpoint of its parent",
}


@dataclass(frozen=True)
class AttributeChange:
    path: str  # e.g. "hyperparameters.epochCount"
    before: Any  # None when absent
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Retiring:
    """A model a change deletes (now, or once its replacement is ACTIVE), and what that does
    on the backend beyond one delete call."""

    model: str
    retirement: Retirement

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, **self.retirement.to_json()}


@dataclass(frozen=True)
class Change:
    """One action on one name. ``remote`` is the existing model acted on, ``new_id`` the model
    a training action creates; ``superseded`` are retired only once ``new_id`` is ACTIVE.
    ``reasons`` are sentences for the reviewer, ``reason_codes`` the same for machines."""

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
    reason_codes: tuple[Reason, ...] = ()
    retirements: tuple[Retiring, ...] = ()
    depends_on: tuple[str, ...] = ()  # the stage this model continues from (spec.from.model)

    def to_json(self) -> dict[str, Any]:
        d = self.desired
        return {
            "name": self.name,
            "action": self.action.value,
            "reasons": list(self.reasons),
            "reason_codes": [r.value for r in self.reason_codes],
            "remote": self.remote,
            "remote_state": self.remote_state.value if self.remote_state else None,
            "new": self.new_id,
            "superseded": list(self.superseded),
            "fingerprint": d.fingerprint if d else None,
            "diff": [c.to_json() for c in self.diff],
            "notes": list(self.notes),
            "retirements": [r.to_json() for r in self.retirements],
            "depends_on": list(self.depends_on),
        }


@dataclass(frozen=True)
class PlanOptions:
    workspace: str
    destroy: bool = False
    targets: frozenset[str] = frozenset()
    stop_training: str = ""  # what stopping a training run does on the backend (`Api.cancel`)


@dataclass(frozen=True)
class Plan:
    workspace: str
    backend: str
    changes: tuple[Change, ...]
    observed_digest: str  # what the provider reported; a saved plan is stale when it moves
    desired_digest: str
    destroy: bool = False
    targets: tuple[str, ...] = ()
    review: Review | None = field(default=None, compare=False)  # attached by the command
    migration: Migration | None = None  # attached by the session: apply writes it first

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action.is_change)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable) or self.migration is not None

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
            "review": self.review.to_json() if self.review is not None else None,
            "migration": self.migration.to_json() if self.migration is not None else None,
        }
