"""One valid TunedModel document + its data -> its `DesiredModel`, as the backend reads it."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gitops_tune import dataset as ds
from gitops_tune import manifest as mf
from gitops_tune.backends import Backend, Hyperparameters
from gitops_tune.dataset import Record
from gitops_tune.desired import limits, methods
from gitops_tune.desired.evaluation import Remote as EvaluationRemote
from gitops_tune.desired.evaluation import evaluation_of
from gitops_tune.desired.sources import source_of, tuned
from gitops_tune.desired.stages import stage_of
from gitops_tune.desired.state import (
    DesiredModel,
    RemoteHashes,
    RemoteObjects,
    RemoteRead,
    Stage,
)
from gitops_tune.desired.training import training_options, with_options
from gitops_tune.errors import Diagnostic, Location
from gitops_tune.evaluation import EvaluationSpec
from gitops_tune.providers.base import DatasetRef, ProviderError, TrainingOptions
from gitops_tune.settings import Settings


@dataclass(frozen=True)
class _Data:
    """A model's training data, read once: what the DesiredModel needs of it."""

    fingerprint: str
    count: int
    shown: str
    examples: Callable[[], Iterator[Record]]
    ref: DatasetRef | None  # what a create sends, where the backend needs more than examples
    warnings: tuple[Diagnostic, ...] = ()
    source: ds.Source | None = None  # the rows with their locations (None: a gs:// dataset)
    media: int = 0  # fileData parts (their tokens are not estimated)


def scan_jobs(item: mf.Parsed, settings: Settings) -> list[ds.ScanJob]:
    """The data files `resolve` will scan for this document, so that a batch of documents
    can have them scanned ahead, in parallel (`dataset.Scans.prefetch`)."""
    spec = tuned(item).spec
    hp, _ = _hyperparameters(item, settings.backend)
    if methods.method_of(item)[0]:  # read by their own reader (`desired.methods`)
        return []
    jobs = []
    for key in ("dataset", "validation"):
        data = getattr(spec, key)
        if data is None or data.path is None:
            continue
        found = source_of(item, key, spec.preamble)
        if not isinstance(found, Diagnostic):
            job = ds.ScanJob.of(found[1], spec.baseModel, hp.fields())
            jobs += [job] if job is not None else []
    return jobs


def resolve(
    item: mf.Parsed,
    where: Location,
    settings: Settings,
    hashes: RemoteHashes | None,
    scans: ds.Scans | None = None,
    objects: RemoteObjects | None = None,
    read: RemoteRead | None = None,
    *,
    parent: DesiredModel | None = None,
) -> tuple[DesiredModel | None, list[Diagnostic]]:
    """One valid TunedModel document -> its DesiredModel, its data read once (or its scan from
    ``scans``); ``objects``/``read``: gs:// media and objects; ``parent``: `desired.stages`."""
    model, spec = tuned(item), tuned(item).spec
    hyperparameters, errors = _hyperparameters(item, settings.backend)
    errors += _remote_only(item, settings.backend) + methods.problems(item, settings.backend)
    errors += limits.adapter_size(item, settings.backend, hyperparameters)
    options, serving, problems = training_options(item, settings.backend, hyperparameters)
    if errors or problems:
        return None, errors + problems
    scans, remote = scans or ds.Scans(settings.scan_cache, 1), _Remote(hashes, objects, read)
    data = _training(item, scans, settings, hyperparameters, remote)
    if not isinstance(data, _Data):
        return None, data
    rest = _rest(item, scans, settings, hyperparameters, remote, options, data, parent)
    if isinstance(rest, list):
        return None, rest
    validation, validation_source, fingerprint, evaluation, stage = rest
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
            example_count=data.count,
            labels=dict(model.metadata.labels),
            prevent_destroy=spec.lifecycle.preventDestroy,
            retain_previous=spec.lifecycle.retainPrevious,
            location=where,
            examples=data.examples,
            warnings=data.warnings,
            dataset_source=data.shown,
            training=data.ref,
            validation=validation,
            source=data.source,
            validation_source=validation_source,
            manifest_path=item.file.path,
            ignored={i.rule: i.reason for i in spec.review.ignore},
            options=options,
            serving=serving,
            evaluation=evaluation,
            stage=stage,
            media_parts=data.media,
        ),
        [],
    )


_Rest = tuple["DatasetRef | None", "ds.Source | None", str, "EvaluationSpec | None", "Stage | None"]


def _rest(
    item: mf.Parsed,
    scans: ds.Scans,
    settings: Settings,
    hp: Hyperparameters,
    remote: _Remote,
    options: TrainingOptions,
    data: _Data,
    parent: DesiredModel | None,
) -> _Rest | list[Diagnostic]:
    """After the training data: the validation set, the fingerprint (with the parent's, for a
    stage: `desired.stages`), the evaluation gate and the stage."""
    held_out = _held_out(item, scans, settings, hp, remote)
    if isinstance(held_out, list):
        return held_out
    validation, validation_source = held_out
    fingerprint = with_options(data.fingerprint, options)
    fingerprint = _combined(fingerprint, validation.key) if validation else fingerprint
    where = EvaluationRemote(remote.read, settings.home, remote.objects)
    evaluation = evaluation_of(item, scans, hp, settings.backend, where)
    if not isinstance(evaluation, (EvaluationSpec, type(None))):
        return evaluation
    stage = stage_of(item, parent, fingerprint) if parent is not None else None
    if isinstance(stage, list):
        return stage
    fingerprint = stage.fingerprint if stage is not None else fingerprint
    return validation, validation_source, fingerprint, evaluation, stage


def _held_out(
    item: mf.Parsed, scans: ds.Scans, settings: Settings, hp: Hyperparameters, remote: _Remote
) -> tuple[DatasetRef | None, ds.Source | None] | list[Diagnostic]:
    """``spec.validation``, when there is one: what a create sends, and its rows for review."""
    spec = tuned(item).spec
    if spec.validation is None:
        return None, None
    validation, problems = _validation(item, scans, settings, hp, remote)
    if validation is None:
        return problems
    found = source_of(item, "validation", spec.preamble) if spec.validation.uri is None else None
    return validation, found[1] if isinstance(found, tuple) else None


def _not_here(what: str, backend: Backend, where: Location, field: str) -> Diagnostic:
    return Diagnostic(
        f"{what} does not apply to backend {backend.label}: {backend.api.title} has no such "
        "setting",
        where,
        field,
    )


def _hyperparameters(item: mf.Parsed, backend: Backend) -> tuple[Hyperparameters, list[Diagnostic]]:
    """The backend's hyperparameters with its defaults; fields its API lacks are errors, and
    so is a base model named the other API's way."""
    doc, spec = item.document, tuned(item).spec
    hp = spec.hyperparameters
    given = {k: v for k, v in hp.model_dump(exclude_none=True).items() if k in hp.model_fields_set}
    problems = [
        _not_here(
            key + backend.api.refused_hints.get(key, ""),
            backend,
            doc.locate(("spec", "hyperparameters", key)),
            f"spec.hyperparameters.{key}",
        )
        for key in backend.api.refused(given)
    ]
    wrong_name = backend.api.base_model_problem(spec.baseModel)
    if wrong_name:
        problems.append(Diagnostic(wrong_name, doc.locate(("spec", "baseModel")), "spec.baseModel"))
    too_long = backend.api.display_name_problem(spec.displayName or "")
    if too_long:
        where = doc.locate(("spec", "displayName"))
        problems.append(Diagnostic(too_long, where, "spec.displayName"))
    return backend.api.hyperparameters(given), problems


def _remote_only(item: mf.Parsed, backend: Backend) -> list[Diagnostic]:
    """``gs://`` data and a validation set, where the backend's API has neither."""
    if backend.api.remote_datasets:
        return []
    doc, spec = item.document, tuned(item).spec
    problems = []
    if spec.dataset.uri is not None:
        path = ("spec", "dataset", "uri")
        problems.append(_not_here("a gs:// dataset", backend, doc.locate(path), "spec.dataset.uri"))
    if spec.validation is not None:
        where = doc.locate(("spec", "validation"))
        problems.append(_not_here("a validation dataset", backend, where, "spec.validation"))
    if spec.evaluation is not None and spec.evaluation.dataset.uri is not None:
        at = doc.locate(("spec", "evaluation", "dataset", "uri"))
        field = "spec.evaluation.dataset.uri"
        problems.append(_not_here("a gs:// evaluation set", backend, at, field))
    return problems


@dataclass(frozen=True)
class _Remote:
    """What desired state may ask of Cloud Storage: a ``gs://`` dataset's hashes, the media
    objects a chat dataset names, and whole objects (a ``gs://`` validation set, counted; a
    ``gs://`` evaluation set, scored)."""

    hashes: RemoteHashes | None
    objects: RemoteObjects | None
    read: RemoteRead | None = None


def _checked(
    item: mf.Parsed,
    key: str,
    result: ds.Scan,
    settings: Settings,
    hp: Hyperparameters,
    remote: _Remote,
) -> tuple[str, list[Diagnostic]]:
    """A clean scan against the backend and its base model; its fingerprint with the media
    objects' generations (`gitops_tune.desired.limits`)."""
    backend = settings.backend
    errors = limits.chat_rules(item, key, result, backend)
    errors += limits.model_limits(item, key, result, backend, hp)
    if errors or not backend.api.remote_datasets:
        return result.fingerprint, errors
    seen, problems = limits.media_objects(result, backend, remote.objects)
    return limits.with_media(result.fingerprint, seen), problems


def _training(
    item: mf.Parsed,
    scans: ds.Scans,
    settings: Settings,
    hp: Hyperparameters,
    remote: _Remote,
) -> _Data | list[Diagnostic]:
    spec = tuned(item).spec
    if spec.dataset.uri is not None:
        ref, problems = _remote_dataset(item, "dataset", hp, remote, settings)
        if ref is None:
            return problems
        return _Data(ref.key, 0, spec.dataset.uri, functools.partial(iter, ()), ref)
    found = source_of(item, "dataset", spec.preamble)
    if isinstance(found, Diagnostic):
        return [found]
    source, first_pass, shown = found
    staged = settings.backend.api.stages_local_data
    if methods.method_of(item)[0]:
        read = methods.read(item, "dataset", source, hp, staged)
        if isinstance(read, list):
            return read
        examples = read.ref.examples or functools.partial(iter, ())
        return _Data(read.fingerprint, read.count, shown, examples, read.ref, source=first_pass)
    result = scans.scan(first_pass, spec.baseModel, hp.fields())
    where = item.document.locate(("spec", "dataset"))
    # where a table gives the base model's training-file size, it replaces the 4 MiB request
    table_limits = bool(settings.backend.api.limits_table)
    checks = ds.limits(result, spec.task, where, shown=shown, request_limit=not table_limits)
    errors = [*result.errors, *(d for d in checks if d.severity == "error")]
    if errors:
        return errors
    fingerprint, errors = _checked(item, "dataset", result, settings, hp, remote)
    if errors:
        return errors
    examples = functools.partial(ds.stream, source, spec.baseModel, hp.fields(), result.fingerprint)
    return _Data(
        fingerprint,
        result.count,
        shown,
        examples,
        DatasetRef(result.fingerprint, examples=examples) if staged else None,
        tuple(d for d in checks if d.severity == "warning"),
        first_pass,
        len(result.media),
    )


def _validation(
    item: mf.Parsed, scans: ds.Scans, settings: Settings, hp: Hyperparameters, remote: _Remote
) -> tuple[DatasetRef | None, list[Diagnostic]]:
    """``spec.validation``: checked like training rows (no size recommendations)."""
    doc, spec = item.document, tuned(item).spec
    assert spec.validation is not None
    if spec.validation.uri is not None:
        return _remote_dataset(item, "validation", hp, remote, settings)
    found = source_of(item, "validation", spec.preamble)
    if isinstance(found, Diagnostic):
        return None, [found]
    source, first_pass, _ = found
    if methods.method_of(item)[0]:
        read = methods.read(item, "validation", source, hp, staged=True)
        return (None, read) if isinstance(read, list) else (read.ref, [])
    result = scans.scan(first_pass, spec.baseModel, hp.fields())
    if result.errors:
        return None, list(result.errors)
    if result.count == 0:
        where = doc.locate(("spec", "validation"))
        return None, [Diagnostic("no validation examples", where, "spec.validation")]
    key, problems = _checked(item, "validation", result, settings, hp, remote)
    if problems:
        return None, problems
    stream = functools.partial(ds.stream, source, spec.baseModel, hp.fields(), result.fingerprint)
    return DatasetRef(key, examples=stream), []


def _remote_dataset(
    item: mf.Parsed,
    key: str,
    hp: Hyperparameters,
    remote: _Remote,
    settings: Settings,
) -> tuple[DatasetRef | None, list[Diagnostic]]:
    """``spec.{key}.uri``, a ``gs://`` dataset used in place. Its fingerprint: the usual header
    line, then the object's URI and the content hashes the storage API reports (an object
    replaced in place changes it; its ``size``, reported with them, is checked against the base
    model's training-file limit and left out; a validation set is counted against the base
    model's validation-set limit, `limits.remote_validation`)."""
    spec = tuned(item).spec
    uri = getattr(spec, key).uri
    assert uri is not None
    where, field_path = item.document.locate(("spec", key, "uri")), f"spec.{key}.uri"
    if remote.hashes is None:
        return None, [Diagnostic(f"cannot read {uri}: no storage client", where, field_path)]
    try:
        found = remote.hashes(uri)
    except ProviderError as e:
        return None, [Diagnostic(f"cannot read {uri}: {e}", where, field_path)]
    if found is None:
        return None, [Diagnostic(f"no such object: {uri}", where, field_path)]
    if key == "dataset":
        problems = limits.remote_training_file(item, uri, found.get("size"), settings.backend)
    else:
        problems = limits.remote_validation(
            item, uri, found, remote.read, settings.home, settings.backend
        )
    if problems:
        return None, problems
    found = {k: v for k, v in found.items() if k != "size"}
    header = {
        "format": ds.FINGERPRINT_FORMAT,
        "baseModel": spec.baseModel,
        "hyperparameters": ds.canonical_hyperparameters(hp.fields()),
    }
    lines = [
        json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        json.dumps({"uri": uri, **dict(found)}, sort_keys=True, separators=(",", ":")),
    ]
    return DatasetRef(hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest(), uri=uri), []


def _combined(training: str, validation: str) -> str:
    line = json.dumps({"training": training, "validation": validation}, sort_keys=True)
    return hashlib.sha256((line + "\n").encode()).hexdigest()
