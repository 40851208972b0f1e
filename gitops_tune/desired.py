"""Desired state: the manifests and their datasets, resolved into what the planner compares."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitops_tune.dataset import Example
from gitops_tune.errors import Diagnostic, Location, UserError

if TYPE_CHECKING:
    from gitops_tune.manifest import Parsed


@dataclass(frozen=True)
class DesiredModel:
    name: str  # metadata.name
    display_name: str  # defaults to name
    description: str
    base_model: str
    preamble: str
    task: str
    hyperparameters: Mapping[str, object]  # camelCase, seed defaults filled in
    fingerprint: str  # full sha256 hex
    example_count: int
    labels: Mapping[str, str]
    prevent_destroy: bool
    location: Location  # where the document's metadata.name is declared
    examples: Callable[[], Iterator[Example]] = field(compare=False, repr=False)
    retain_previous: int = 0
    warnings: tuple[Diagnostic, ...] = ()  # this model's warnings (also in DesiredState)
    dataset_source: str = ""  # the data file as shown to the user, or "<manifest> (inline)"


@dataclass(frozen=True)
class WorkspaceDoc:
    name: str
    backend: str | None
    location: Location
    settings: Mapping[str, object] = field(default_factory=dict)  # backend-specific, e.g. vertex


@dataclass(frozen=True)
class DesiredState:
    models: tuple[DesiredModel, ...]  # sorted by name
    workspace: WorkspaceDoc | None
    warnings: tuple[Diagnostic, ...] = ()


def load(paths: Sequence[str]) -> DesiredState:
    """Load, validate and fingerprint every manifest under ``paths``.

    Each dataset is streamed once (count, limits, fingerprint). Raises `UserError` with every
    problem found; warnings are returned in `DesiredState.warnings`.
    """
    state, errors = collect(paths)
    if errors:
        raise UserError(errors)
    return state


def collect(paths: Sequence[str]) -> tuple[DesiredState, list[Diagnostic]]:
    """Like `load`, but returns the errors along with the models that had none."""
    from gitops_tune import manifest

    files, found = manifest.discover(paths)
    errors = [d for d in found if d.severity == "error"]
    general = tuple(d for d in found if d.severity == "warning")
    models: dict[str, DesiredModel] = {}
    declared: dict[str, Location] = {}
    workspace: WorkspaceDoc | None = None
    for file in files:
        parsed, problems = manifest.load_file(file)
        errors.extend(problems)
        for item in parsed:
            doc, model = item.document, item.model
            where = doc.locate(("metadata", "name"))
            if isinstance(model, manifest.WorkspaceDocument):
                if workspace is not None:
                    errors.append(
                        Diagnostic(
                            f"a second Workspace document; the first is at {workspace.location}"
                            " (at most one per tree)",
                            doc.locate(("kind",)),
                            "kind",
                        )
                    )
                    continue
                settings: dict[str, object] = {}
                if model.spec.vertex is not None:
                    settings["vertex"] = model.spec.vertex.model_dump(exclude_none=True)
                workspace = WorkspaceDoc(model.metadata.name, model.spec.backend, where, settings)
                continue
            name = model.metadata.name
            if name in declared:
                errors.append(
                    Diagnostic(
                        f"duplicate model name {name!r}; also declared at {declared[name]}",
                        where,
                        "metadata.name",
                    )
                )
                continue
            declared[name] = where
            desired, problems = _resolve(item, where)
            errors.extend(problems)
            if desired is not None:
                models[name] = desired
    ordered = tuple(models[n] for n in sorted(models))
    warnings = general + tuple(w for m in ordered for w in m.warnings)
    return DesiredState(ordered, workspace, warnings), errors


def _resolve(item: Parsed, where: Location) -> tuple[DesiredModel | None, list[Diagnostic]]:
    """One valid TunedModel document -> its DesiredModel, reading its dataset once."""
    from gitops_tune import dataset as ds
    from gitops_tune import manifest as mf

    model = item.model
    assert isinstance(model, mf.TunedModelDocument)
    doc, spec = item.document, model.spec
    hp = spec.hyperparameters
    hyperparameters: dict[str, object] = {"epochCount": hp.epochCount, "batchSize": hp.batchSize}
    if hp.learningRateMultiplier is not None:
        hyperparameters["learningRateMultiplier"] = hp.learningRateMultiplier
    else:
        hyperparameters["learningRate"] = (
            hp.learningRate
            if hp.learningRate is not None
            else ds.DEFAULT_HYPERPARAMETERS["learningRate"]
        )
    data = spec.dataset
    if data.path is not None:
        try:
            path, display = mf.dataset_file(item.file, data.path)
        except ValueError as e:
            field_path = ("spec", "dataset", "path")
            return None, [Diagnostic(str(e), doc.locate(field_path), "spec.dataset.path")]
        source = ds.file_source(
            path,
            display,
            input_field=data.inputField,
            output_field=data.outputField,
            preamble=spec.preamble,
        )
        first_pass = source
        shown = display
    else:
        reread = functools.partial(mf.inline_rows, item.file, doc.index)
        source = ds.inline_source(reread, item.file.display, preamble=spec.preamble)
        first_pass = ds.inline_source(
            functools.partial(mf.example_rows, doc), item.file.display, preamble=spec.preamble
        )
        shown = f"{item.file.display} (inline)"
    result = ds.scan(first_pass, spec.baseModel, hyperparameters)
    at = doc.locate(("spec", "dataset"))
    checks = ds.limits(result, spec.task, at)
    errors = [*result.errors, *(d for d in checks if d.severity == "error")]
    if errors:
        return None, errors
    return (
        DesiredModel(
            name=model.metadata.name,
            display_name=spec.displayName or model.metadata.name,
            description=spec.description,
            base_model=spec.baseModel,
            preamble=spec.preamble,
            task=spec.task or "other",
            hyperparameters=hyperparameters,
            fingerprint=result.fingerprint,
            example_count=result.count,
            labels=dict(model.metadata.labels),
            prevent_destroy=spec.lifecycle.preventDestroy,
            retain_previous=spec.lifecycle.retainPrevious,
            location=where,
            examples=functools.partial(
                ds.stream, source, spec.baseModel, hyperparameters, result.fingerprint
            ),
            warnings=tuple(d for d in checks if d.severity == "warning"),
            dataset_source=shown,
        ),
        [],
    )
