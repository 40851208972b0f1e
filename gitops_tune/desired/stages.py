"""Stages while loading: ``spec.from.model`` read as a graph (a model named nowhere and a cycle
are each one error at ``file:line``), the documents ordered parents first, and each child's
`Stage` (its parent's identity, which joins its fingerprint)."""

from __future__ import annotations

from collections.abc import Sequence

from gitops_tune import manifest as mf
from gitops_tune.desired import graph
from gitops_tune.desired.sources import tuned
from gitops_tune.desired.state import DesiredModel, Stage
from gitops_tune.errors import Diagnostic, Location
from gitops_tune.hints import suggest

Pending = tuple[mf.Parsed, Location, list[Diagnostic]]  # a document, where, its file's errors
_FIELD = "spec.from.model"


def parent_of(item: mf.Parsed) -> str | None:
    """The workspace model ``item`` continues from (``spec.from.model``), if any."""
    stage = tuned(item).spec.from_
    return stage.model if stage is not None else None


def ordered(pending: Sequence[Pending]) -> list[Pending]:
    """``pending`` with parents before their children. A reference to a model the workspace
    does not declare, or a cycle, is one error (in the file of the model that says it) and
    leaves its models out."""
    by_name = {tuned(p[0]).metadata.name: p for p in pending}
    parents = {n: parent for n, p in by_name.items() if (parent := parent_of(p[0])) is not None}
    broken: set[str] = set()
    for name, parent in sorted(parents.items()):
        if parent not in by_name:
            item, _, errors = by_name[name]
            errors.append(_unknown(item, parent, sorted(by_name)))
            broken.add(name)
    for loop in graph.cycles(parents):
        item, _, errors = by_name[loop[0]]
        shown = " -> ".join([*loop, loop[0]])
        message = f"a cycle of stages: {shown}; a model cannot continue from itself"
        errors.append(Diagnostic(message, _where(item), _FIELD))
        broken.update(loop)
    names = graph.topological(by_name, parents)
    return [by_name[n] for n in names if not ({n, *graph.ancestors(n, parents)} & broken)]


def _where(item: mf.Parsed) -> Location:
    return item.document.locate(("spec", "from", "model"))


def _unknown(item: mf.Parsed, parent: str, declared: list[str]) -> Diagnostic:
    hint = suggest(parent, [n for n in declared if n != tuned(item).metadata.name])
    message = f"unknown model {parent!r}: no valid TunedModel of this workspace is named so"
    message += f"; did you mean {hint!r}?" if hint else ""
    return Diagnostic(message, _where(item), _FIELD)


def stage_of(item: mf.Parsed, parent: DesiredModel, own: str) -> Stage | list[Diagnostic]:
    """The child's `Stage` on ``parent``, once what it asks of the parent is checked: the same
    base model (continuous tuning keeps the pre-tuned model's base), and a checkpoint the
    parent keeps (one per epoch, or the last only with exportLastCheckpointOnly)."""
    doc, spec = item.document, tuned(item).spec
    assert spec.from_ is not None
    problems = []
    if spec.baseModel != parent.base_model:
        problems.append(
            Diagnostic(
                f"must be {parent.base_model!r}, the base model of {parent.name}: a model "
                "continues from its parent's base model",
                doc.locate(("spec", "baseModel")),
                "spec.baseModel",
            )
        )
    checkpoint = spec.from_.epoch
    epochs = parent.hyperparameters.epochs
    problem = ""
    if checkpoint.isdigit() and int(checkpoint) > epochs:
        problem = f"epoch {checkpoint} is beyond {parent.name}'s epochCount {epochs}"
    elif (
        checkpoint.isdigit()
        and parent.options.export_last_checkpoint_only
        and int(checkpoint) < epochs
    ):
        problem = f"{parent.name} keeps its last checkpoint only (exportLastCheckpointOnly)"
    if problem:
        where = doc.locate(("spec", "from", "checkpoint"))
        problems.append(Diagnostic(problem, where, "spec.from.checkpoint"))
    if problems:
        return problems
    return Stage(
        parent=parent.name,
        checkpoint=checkpoint,
        parent_fingerprint=parent.fingerprint,
        own_fingerprint=own,
        location=_where(item),
        parent_gated=parent.evaluation is not None,
    )
