"""Validating manifest documents: the header (apiVersion, kind), then the kind's pydantic
model, then the rules that span fields; every problem one `Diagnostic` at the key to change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gitops_tune.errors import Diagnostic
from gitops_tune.hints import suggest
from gitops_tune.manifest._yaml import Document, dotted
from gitops_tune.manifest.files import ManifestFile, read_documents
from gitops_tune.manifest.messages import describe, from_validation_error
from gitops_tune.manifest.methods import one_of_problems
from gitops_tune.manifest.models import (
    API_VERSION,
    DOCUMENT_MODELS,
    KINDS,
    Dataset,
    Evaluation,
    TunedModelDocument,
)
from gitops_tune.manifest.stages import check_from
from gitops_tune.manifest.workspace import WorkspaceDocument


@dataclass(frozen=True)
class Parsed:
    """A valid document: its model, its positions and its file."""

    model: TunedModelDocument | WorkspaceDocument
    document: Document
    file: ManifestFile


def load_file(file: ManifestFile) -> tuple[list[Parsed], list[Diagnostic]]:
    """Parse and validate every document of one manifest file."""
    documents, problems = read_documents(file)
    parsed: list[Parsed] = []
    for doc in documents:
        model, errors = check_document(doc)
        problems.extend(errors)
        if model is not None and not errors:
            parsed.append(Parsed(model, doc, file))
    return parsed, problems


def check_document(
    doc: Document,
) -> tuple[TunedModelDocument | WorkspaceDocument | None, list[Diagnostic]]:
    """Validate one document: header first (apiVersion, kind), then its kind's model."""
    data = doc.data
    if not isinstance(data, dict):
        return None, [
            Diagnostic(
                "a manifest document must be a mapping with apiVersion, kind, metadata and "
                f"spec (got {describe(data)})",
                doc.start,
            )
        ]
    problems = _check_header(data, doc)
    if problems:
        return None, problems
    model_class = DOCUMENT_MODELS[str(data["kind"])]
    try:
        model: Any = model_class.model_validate(data)
    except ValidationError as e:
        errors = from_validation_error(e, model_class, doc)
        return None, sorted(errors, key=lambda d: _position(d, doc))
    if isinstance(model, TunedModelDocument):
        problems.extend(_check_tuned_model(model, doc))
    return model, problems


def _check_header(data: dict[str, Any], doc: Document) -> list[Diagnostic]:
    """``apiVersion`` is this format's, ``kind`` one of `KINDS`."""
    problems: list[Diagnostic] = []
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if "apiVersion" not in data:
        problems.append(
            Diagnostic(
                f"required field is missing; expected {API_VERSION!r}", doc.start, "apiVersion"
            )
        )
    elif api_version != API_VERSION:
        problems.append(
            Diagnostic(
                f"unsupported apiVersion {describe(api_version)}; expected {API_VERSION!r}",
                doc.locate(("apiVersion",)),
                "apiVersion",
            )
        )
    accepted = ", ".join(KINDS)
    if "kind" not in data:
        problems.append(
            Diagnostic(f"required field is missing; expected one of: {accepted}", doc.start, "kind")
        )
    elif not isinstance(kind, str) or kind not in DOCUMENT_MODELS:  # a list is unhashable
        message = f"unknown kind {describe(kind)}; expected one of: {accepted}"
        hint = suggest(kind, KINDS) if isinstance(kind, str) else None
        if hint:
            message += f"; did you mean {hint!r}?"
        problems.append(Diagnostic(message, doc.locate(("kind",)), "kind"))
    return problems


def _check_tuned_model(model: TunedModelDocument, doc: Document) -> list[Diagnostic]:
    """The rules that span fields, each pointed at the key to change."""
    problems: list[Diagnostic] = []
    problems.extend(_check_dataset(model.spec.dataset, doc, ("spec", "dataset")))
    if model.spec.validation is not None:
        problems.extend(_check_dataset(model.spec.validation, doc, ("spec", "validation")))
    if model.spec.evaluation is not None:
        problems.extend(_check_evaluation(model.spec.evaluation, doc))
    problems.extend(check_from(model.spec.from_, model.spec.preTunedModel, doc))
    if model.spec.method is not None:
        for path, message in one_of_problems(model.spec.method, ("spec", "method")):
            problems.append(Diagnostic(message, doc.locate(path), dotted(path)))
    hp = model.spec.hyperparameters
    if hp.learningRate is not None and hp.learningRateMultiplier is not None:
        problems.append(
            Diagnostic(
                "learningRate and learningRateMultiplier are both set; set at most one",
                doc.locate(("spec", "hyperparameters", "learningRateMultiplier")),
                "spec.hyperparameters",
            )
        )
    return problems


def _check_evaluation(evaluation: Evaluation, doc: Document) -> list[Diagnostic]:
    here = ("spec", "evaluation")
    problems = _check_dataset(evaluation.dataset, doc, (*here, "dataset"))
    if evaluation.tolerance and not evaluation.noRegression:
        problems.append(
            Diagnostic(
                "tolerance applies only with noRegression: true",
                doc.locate((*here, "tolerance")),
                "spec.evaluation.tolerance",
            )
        )
    if not evaluation.minScore and not evaluation.noRegression:
        problems.append(
            Diagnostic(
                "an evaluation gates nothing without minScore or noRegression: true; set one",
                doc.locate(here),
                "spec.evaluation",
            )
        )
    if evaluation.metric == "regex" and evaluation.normalize.stripPunctuation:
        problems.append(
            Diagnostic(
                "stripPunctuation does not apply to metric regex (the pattern would change)",
                doc.locate((*here, "normalize", "stripPunctuation")),
                "spec.evaluation.normalize.stripPunctuation",
            )
        )
    return problems


def _check_dataset(dataset: Dataset, doc: Document, here: tuple[str, ...]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    if dataset.uri is not None:
        others = [k for k in ("examples", "path") if getattr(dataset, k) is not None]
        if others:
            problems.append(
                Diagnostic(
                    f"'uri' and '{others[0]}' are both set; set exactly one",
                    doc.locate((*here, "uri")),
                    dotted(here),
                )
            )
        problems += _path_only_fields(
            doc, dataset, here, "a 'uri' object is already in the Vertex JSONL format"
        )
        return problems
    if dataset.examples is None and dataset.path is None:
        problems.append(
            Diagnostic(
                "set exactly one of 'examples' (inline) or 'path' (a data file)",
                doc.locate(here),
                dotted(here),
            )
        )
    elif dataset.examples is not None and dataset.path is not None:
        problems.append(
            Diagnostic(
                "'examples' and 'path' are both set; set exactly one",
                doc.locate((*here, "path")),
                dotted(here),
            )
        )
    elif dataset.examples is not None:
        problems += _path_only_fields(
            doc, dataset, here, "inline examples always use text_input and output"
        )
    return problems


def _path_only_fields(
    doc: Document, dataset: Dataset, here: tuple[str, ...], why: str
) -> list[Diagnostic]:
    """``inputField``/``outputField`` name columns of a data file; elsewhere they are errors."""
    return [
        Diagnostic(
            f"applies to a dataset read from 'path'; {why}",
            doc.locate((*here, name)),
            dotted((*here, name)),
        )
        for name in ("inputField", "outputField")
        if name in dataset.model_fields_set
    ]


def _position(diagnostic: Diagnostic, doc: Document) -> tuple[int, int]:
    where = diagnostic.location or doc.start
    return (where.line or 0, where.col or 0)
