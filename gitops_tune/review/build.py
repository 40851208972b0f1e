"""The review of a plan: each model's findings, base comparison and cost (see the package)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gitops_tune.dataset.records import token_texts
from gitops_tune.desired import DesiredModel, DesiredState
from gitops_tune.review import rules
from gitops_tune.review.base import BaseTree, compare
from gitops_tune.review.cost import (
    PriceTable,
    cost,
    estimate_tokens,
    evaluation_usage,
    load_prices,
    method_cost,
)
from gitops_tune.review.gitref import GitTree
from gitops_tune.review.model import BaseChange, Finding, ModelReview, Review

if TYPE_CHECKING:
    from gitops_tune.plan.model import Plan

#: What an estimate of a dataset with fileData parts counts (`Cost.counts`).
MEDIA_NOT_ESTIMATED = "text only: media not estimated; use --count-tokens"

TokenCounter = Callable[[DesiredModel], int | None]
"""A model -> the tokens of its training examples, counted by the backend (one epoch); None:
it could not count them (the tokens are estimated)."""


@dataclass(frozen=True)
class Checked:
    """One model's findings (silenced rules removed), examples and characters."""

    findings: tuple[Finding, ...]
    silenced: dict[str, str]
    examples: int
    chars: int


def check(model: DesiredModel) -> Checked:
    """The data-quality findings of one model (none for a gs:// dataset, which is not read)."""
    if model.source is None:
        return Checked((), {}, model.example_count, 0)
    found, n, chars = rules.check(
        model.source, model.preamble, model.task, model.validation_source, model.options.method
    )
    kept = tuple(f for f in found if f.rule not in model.ignored)
    silenced = {f.rule: model.ignored[f.rule] for f in found if f.rule in model.ignored}
    return Checked(kept, silenced, n, chars)


def build(
    plan: Plan,
    state: DesiredState,
    *,
    paths: Sequence[str] = (),
    base: GitTree | None = None,
    show: int = 3,
    prices: str | None = None,
    counter: TokenCounter | None = None,
) -> Review:
    """The review of a plan: findings and cost for every model it trains, and with ``base``
    (a `GitTree` the caller opened, and closes) each model's change against that git REF."""
    table = load_prices(prices)
    trains = {c.name for c in plan.actionable if c.action.trains}
    against: dict[str, BaseChange] = {}
    if base is not None:
        against = compare(BaseTree.open(base, paths or (".",), state.settings), state.models, show)
    models = []
    for m in state.models:
        change = against.get(m.name)
        if m.name not in trains and (change is None or change.status == "unchanged"):
            continue
        models.append(_model(m, m.name in trains, change, table, counter))
    for name, change in against.items():
        if change.status == "removed":
            models.append(ModelReview(name, base=change))
    models.sort(key=lambda r: r.name)
    if base is None:
        return Review(tuple(models))
    return Review(tuple(models), base.ref, base.commit)


def _model(
    m: DesiredModel,
    trains: bool,
    change: BaseChange | None,
    table: PriceTable,
    counter: TokenCounter | None,
) -> ModelReview:
    checked = check(m) if trains else Checked((), {}, m.example_count, 0)
    spent = None
    if trains and m.options.method:  # its own rows: `gitops_tune.dataset.methods`
        chars = sum(getattr(r, "chars", 0) for r in m.examples())
        o, epochs = m.options, m.hyperparameters.epochs
        spent = method_cost(o.method, o.method_settings, chars, epochs, m.base_model, table)
    elif trains and m.source is not None:
        counted = counter(m) if counter is not None else None
        per_epoch = counted if counted is not None else estimate_tokens(checked.chars)
        epochs = m.hyperparameters.epochs
        spent = cost(per_epoch, epochs, counted is None, m.base_model, table)
        if counted is None and m.media_parts:
            spent = replace(spent, counts=MEDIA_NOT_ESTIMATED)
        if m.evaluation is not None:
            passes = 2 if m.evaluation.no_regression else 1
            texts = (token_texts(e) for e in m.evaluation.examples())
            tokens, calls = evaluation_usage(texts, passes)
            spent = replace(spent, evaluation_tokens=tokens, evaluation_calls=calls)
    return ModelReview(m.name, checked.findings, checked.silenced, spent, change)


__all__ = ["Checked", "GitTree", "Review", "TokenCounter", "build", "check", "load_prices"]
