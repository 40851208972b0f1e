"""Desired state: the manifests and their datasets, resolved into what the planner compares."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitops_tune.dataset import Example
from gitops_tune.errors import Diagnostic, Location, UserError

if TYPE_CHECKING:
    from gitops_tune.dataset import Source
    from gitops_tune.manifest import Parsed, TunedModelDocument
    from gitops_tune.providers.base import DatasetRef

RemoteHashes = Callable[[str], "Mapping[str, str] | None"]
"""``gs://`` URI -> the content hashes the storage API reports (None: no such object)."""


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
    training: DatasetRef | None = field(default=None, compare=False, repr=False)
    validation: DatasetRef | None = field(default=None, compare=False, repr=False)


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


def load(
    paths: Sequence[str],
    backend: str | None = None,
    *,
    remote_hashes: RemoteHashes | None = None,
) -> DesiredState:
    """Load, validate and fingerprint every manifest under ``paths``.

    ``backend`` (a flag) is resolved like every command resolves it: the flag, then
    ``GITOPS_TUNE_BACKEND``, then the Workspace document, then ``gemini``; the resolved
    backend's API decides which fields apply and the hyperparameter defaults.
    Each dataset is streamed once (count, limits, fingerprint); ``gs://`` datasets are
    fingerprinted by ``remote_hashes`` (default: Cloud Storage through google-cloud-storage).
    Raises `UserError` with every problem found; warnings are returned in
    `DesiredState.warnings`.
    """
    state, errors = collect(paths, backend, remote_hashes=remote_hashes)
    if errors:
        raise UserError(errors)
    return state


def collect(
    paths: Sequence[str],
    backend: str | None = None,
    *,
    remote_hashes: RemoteHashes | None = None,
) -> tuple[DesiredState, list[Diagnostic]]:
    """Like `load`, but returns the errors along with the models that had none."""
    from gitops_tune import manifest
    from gitops_tune.settings import api_flavor, backend_of

    files, found = manifest.discover(paths)
    errors = [d for d in found if d.severity == "error"]
    general = tuple(d for d in found if d.severity == "warning")
    models: dict[str, DesiredModel] = {}
    declared: dict[str, Location] = {}
    workspace: WorkspaceDoc | None = None
    pending: list[tuple[Parsed, Location, list[Diagnostic]]] = []
    per_file: list[list[Diagnostic]] = []  # errors stay in file order
    for file in files:
        parsed, problems = manifest.load_file(file)
        file_errors = list(problems)
        per_file.append(file_errors)
        for item in parsed:
            doc, model = item.document, item.model
            where = doc.locate(("metadata", "name"))
            if isinstance(model, manifest.WorkspaceDocument):
                if workspace is not None:
                    file_errors.append(
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
                if model.spec.local is not None:
                    settings["local"] = model.spec.local.model_dump(exclude_none=True)
                workspace = WorkspaceDoc(model.metadata.name, model.spec.backend, where, settings)
                continue
            name = model.metadata.name
            if name in declared:
                file_errors.append(
                    Diagnostic(
                        f"duplicate model name {name!r}; also declared at {declared[name]}",
                        where,
                        "metadata.name",
                    )
                )
                continue
            declared[name] = where
            pending.append((item, where, file_errors))
    resolved = backend_of(backend, workspace)
    flavor = api_flavor(resolved, workspace)
    hashes = _Lazy(remote_hashes)
    for item, where, file_errors in pending:
        desired, problems = _resolve(item, where, resolved, flavor, hashes)
        file_errors.extend(problems)
        if desired is not None:
            models[desired.name] = desired
    errors += [e for file_errors in per_file for e in file_errors]
    ordered = tuple(models[n] for n in sorted(models))
    warnings = general + tuple(w for m in ordered for w in m.warnings)
    return DesiredState(ordered, workspace, warnings), errors


class _Lazy:
    """The storage client is made on first use: only trees with ``gs://`` datasets pay."""

    def __init__(self, given: RemoteHashes | None) -> None:
        self.given = given

    def __call__(self, uri: str) -> Mapping[str, str] | None:
        if self.given is None:
            from gitops_tune.providers.sdk_storage import Storage

            self.given = Storage().hashes
        return self.given(uri)


def _not_here(what: str, backend: str, flavor: str, where: Location, field: str) -> Diagnostic:
    api = "the Gemini API" if flavor == "gemini" else "Vertex AI"
    shown = backend if backend == flavor else f"{backend} ({flavor} dialect)"
    return Diagnostic(
        f"{what} does not apply to backend {shown}: {api} has no such setting", where, field
    )


def _hyperparameters(
    item: Parsed, backend: str, flavor: str
) -> tuple[dict[str, object], list[Diagnostic]]:
    """The backend's hyperparameters with its defaults; fields it lacks are errors."""
    from gitops_tune import dataset as ds

    doc = item.document
    spec = _tuned(item).spec
    hp = spec.hyperparameters
    given = hp.model_fields_set
    problems: list[Diagnostic] = []

    def refuse(key: str, what: str) -> None:
        path = ("spec", "hyperparameters", key)
        problems.append(
            _not_here(what, backend, flavor, doc.locate(path), ".".join(map(str, path)))
        )

    if flavor == "vertex":
        for key in ("batchSize", "learningRate"):
            if key in given:
                hint = " (use learningRateMultiplier)" if key == "learningRate" else ""
                refuse(key, f"{key}{hint}")
        out: dict[str, object] = {
            "epochCount": hp.epochCount,
            "learningRateMultiplier": (
                hp.learningRateMultiplier if hp.learningRateMultiplier is not None else 1.0
            ),
        }
        if hp.adapterSize is not None:
            out["adapterSize"] = hp.adapterSize
        if spec.baseModel.startswith("models/"):
            problems.append(
                Diagnostic(
                    f"Vertex AI names base models without 'models/' (e.g. gemini-2.5-flash), "
                    f"got {spec.baseModel!r}",
                    doc.locate(("spec", "baseModel")),
                    "spec.baseModel",
                )
            )
        return out, problems
    if hp.adapterSize is not None:
        refuse("adapterSize", "adapterSize")
    out = {"epochCount": hp.epochCount, "batchSize": hp.batchSize}
    if hp.learningRateMultiplier is not None:
        out["learningRateMultiplier"] = hp.learningRateMultiplier
    else:
        out["learningRate"] = (
            hp.learningRate
            if hp.learningRate is not None
            else ds.DEFAULT_HYPERPARAMETERS["learningRate"]
        )
    return out, problems


def _remote_dataset(
    item: Parsed,
    key: str,
    hyperparameters: Mapping[str, object],
    hashes: Callable[[str], Mapping[str, str] | None] | None,
) -> tuple[DatasetRef | None, list[Diagnostic]]:
    """``spec.{key}.uri``, a ``gs://`` dataset used in place. Its fingerprint: the usual header
    line, then the object's URI and the content hashes the storage API reports (an object
    replaced in place changes it)."""
    import hashlib
    import json

    from gitops_tune import dataset as ds
    from gitops_tune.providers.base import DatasetRef, ProviderError

    spec = _tuned(item).spec
    uri = getattr(spec, key).uri
    assert hashes is not None and uri is not None
    where, field_path = item.document.locate(("spec", key, "uri")), f"spec.{key}.uri"
    try:
        found = hashes(uri)
    except ProviderError as e:
        return None, [Diagnostic(f"cannot read {uri}: {e}", where, field_path)]
    if found is None:
        return None, [Diagnostic(f"no such object: {uri}", where, field_path)]
    header = {
        "format": ds.FINGERPRINT_FORMAT,
        "baseModel": spec.baseModel,
        "hyperparameters": ds.canonical_hyperparameters(hyperparameters),
    }
    lines = [
        json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        json.dumps({"uri": uri, **dict(found)}, sort_keys=True, separators=(",", ":")),
    ]
    return DatasetRef(hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest(), uri=uri), []


def _combined(training: str, validation: str) -> str:
    import hashlib
    import json

    line = json.dumps({"training": training, "validation": validation}, sort_keys=True)
    return hashlib.sha256((line + "\n").encode()).hexdigest()


def _tuned(item: Parsed) -> TunedModelDocument:
    from gitops_tune import manifest as mf

    assert isinstance(item.model, mf.TunedModelDocument)
    return item.model


def _source(item: Parsed, key: str, preamble: str) -> tuple[Source, Source, str] | Diagnostic:
    """(source, first-pass source, shown) of ``spec.<key>`` read from a file or inline."""
    from gitops_tune import dataset as ds
    from gitops_tune import manifest as mf

    doc = item.document
    data = getattr(_tuned(item).spec, key)
    if data.path is not None:
        try:
            path, display = mf.dataset_file(item.file, data.path)
        except ValueError as e:
            return Diagnostic(str(e), doc.locate(("spec", key, "path")), f"spec.{key}.path")
        source = ds.file_source(
            path,
            display,
            input_field=data.inputField,
            output_field=data.outputField,
            preamble=preamble,
        )
        return source, source, display
    reread = functools.partial(mf.inline_rows, item.file, doc.index, key)
    source = ds.inline_source(reread, item.file.display, preamble=preamble)
    first_pass = ds.inline_source(
        functools.partial(mf.example_rows, doc, key), item.file.display, preamble=preamble
    )
    return source, first_pass, f"{item.file.display} (inline)"


def _resolve(
    item: Parsed,
    where: Location,
    backend: str = "gemini",
    flavor: str = "gemini",
    hashes: Callable[[str], Mapping[str, str] | None] | None = None,
) -> tuple[DesiredModel | None, list[Diagnostic]]:
    """One valid TunedModel document -> its DesiredModel, reading its dataset once."""
    from gitops_tune import dataset as ds
    from gitops_tune import manifest as mf
    from gitops_tune.providers.base import DatasetRef

    model = item.model
    assert isinstance(model, mf.TunedModelDocument)
    doc, spec = item.document, model.spec
    hyperparameters, errors = _hyperparameters(item, backend, flavor)
    if flavor != "vertex":
        if spec.dataset.uri is not None:
            path = ("spec", "dataset", "uri")
            errors.append(
                _not_here("a gs:// dataset", backend, flavor, doc.locate(path), "spec.dataset.uri")
            )
        if spec.validation is not None:
            errors.append(
                _not_here(
                    "a validation dataset",
                    backend,
                    flavor,
                    doc.locate(("spec", "validation")),
                    "spec.validation",
                )
            )
    if errors:
        return None, errors
    training: DatasetRef | None = None
    validation: DatasetRef | None = None
    checks: list[Diagnostic] = []
    data = spec.dataset
    if data.uri is not None:
        training, problems = _remote_dataset(item, "dataset", hyperparameters, hashes)
        if training is None:
            return None, problems
        fingerprint, count, shown = training.key, 0, data.uri
        examples: Callable[[], Iterator[Example]] = functools.partial(iter, ())
    else:
        found = _source(item, "dataset", spec.preamble)
        if isinstance(found, Diagnostic):
            return None, [found]
        source, first_pass, shown = found
        result = ds.scan(first_pass, spec.baseModel, hyperparameters)
        checks = ds.limits(result, spec.task, doc.locate(("spec", "dataset")))
        errors = [*result.errors, *(d for d in checks if d.severity == "error")]
        if errors:
            return None, errors
        fingerprint, count = result.fingerprint, result.count
        examples = functools.partial(
            ds.stream,
            source,
            spec.baseModel,
            hyperparameters,
            result.fingerprint,
        )
        if flavor == "vertex":
            training = DatasetRef(fingerprint, examples=examples)
    if spec.validation is not None:
        validation, problems = _validation(item, hyperparameters, hashes)
        if validation is None:
            return None, problems
        fingerprint = _combined(fingerprint, validation.key)
    return (
        DesiredModel(
            name=model.metadata.name,
            display_name=spec.displayName or model.metadata.name,
            description=spec.description,
            base_model=spec.baseModel,
            preamble=spec.preamble,
            task=spec.task or "other",
            hyperparameters=hyperparameters,
            fingerprint=fingerprint,
            example_count=count,
            labels=dict(model.metadata.labels),
            prevent_destroy=spec.lifecycle.preventDestroy,
            retain_previous=spec.lifecycle.retainPrevious,
            location=where,
            examples=examples,
            warnings=tuple(d for d in checks if d.severity == "warning"),
            dataset_source=shown,
            training=training,
            validation=validation,
        ),
        [],
    )


def _validation(
    item: Parsed,
    hyperparameters: Mapping[str, object],
    hashes: Callable[[str], Mapping[str, str] | None] | None,
) -> tuple[DatasetRef | None, list[Diagnostic]]:
    """``spec.validation``: checked like training rows (no size recommendations)."""
    from gitops_tune import dataset as ds
    from gitops_tune.providers.base import DatasetRef

    doc = item.document
    spec = _tuned(item).spec
    data = spec.validation
    assert data is not None
    if data.uri is not None:
        return _remote_dataset(item, "validation", hyperparameters, hashes)
    found = _source(item, "validation", spec.preamble)
    if isinstance(found, Diagnostic):
        return None, [found]
    source, first_pass, _ = found
    result = ds.scan(first_pass, spec.baseModel, hyperparameters)
    if result.errors:
        return None, list(result.errors)
    if result.count == 0:
        where = doc.locate(("spec", "validation"))
        return None, [Diagnostic("no validation examples", where, "spec.validation")]
    stream = functools.partial(
        ds.stream,
        source,
        spec.baseModel,
        hyperparameters,
        result.fingerprint,
    )
    return DatasetRef(result.fingerprint, examples=stream), []
