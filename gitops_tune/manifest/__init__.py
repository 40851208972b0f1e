"""Manifests: finding the files, reading YAML with positions, validating documents.

The flow for one path argument: `discover` finds the ``*.yaml``/``*.yml`` files; `load_file`
parses each into `Document` values and validates them into `Parsed` (a pydantic model plus
the positions to point errors at). Datasets are not read here: `dataset_file` resolves a
``spec.dataset.path`` safely and `example_rows` / `inline_rows` turn inline examples into
rows for `gitops_tune.dataset`. `gitops_tune.desired.load` wires it all together.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gitops_tune.dataset import SUFFIXES, DatasetError, Item, Row, decode_utf8
from gitops_tune.errors import Diagnostic, Location
from gitops_tune.hints import suggest
from gitops_tune.manifest._yaml import Document, dotted, parse
from gitops_tune.manifest.messages import describe, from_validation_error
from gitops_tune.manifest.models import (
    API_VERSION,
    DOCUMENT_MODELS,
    KINDS,
    Dataset,
    TunedModelDocument,
    WorkspaceDocument,
    json_schema,
    schema_text,
)

__all__ = [
    "API_VERSION",
    "KINDS",
    "Document",
    "ManifestFile",
    "Parsed",
    "TunedModelDocument",
    "WorkspaceDocument",
    "dataset_file",
    "discover",
    "example_rows",
    "inline_rows",
    "json_schema",
    "load_file",
    "schema_text",
]

MANIFEST_SUFFIXES = (".yaml", ".yml")
MAX_MANIFEST_BYTES = 32 * 1024 * 1024  # inline data is capped at 4 MiB serialized anyway
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


@dataclass(frozen=True)
class ManifestFile:
    """A manifest file and the directory tree its datasets must stay inside."""

    path: str  # the path to open
    display: str  # the path as shown in messages (as the user typed it)
    root: str  # the directory argument, or the file's directory when a file was given
    root_display: str


@dataclass(frozen=True)
class Parsed:
    """A valid document: its model, its positions and its file."""

    model: TunedModelDocument | WorkspaceDocument
    document: Document
    file: ManifestFile


def discover(paths: Sequence[str]) -> tuple[list[ManifestFile], list[Diagnostic]]:
    """The manifest files under ``paths`` in a stable order, each once.

    Directories are searched recursively for ``*.yaml``/``*.yml``, skipping hidden
    directories (``.git``, ``.gitops-tune``, ...) and hidden files (``.gitlab-ci.yml``,
    ``.pre-commit-config.yaml``); files are taken as given. Finding no
    manifest at all is a warning: an empty tree desires no models.
    """
    found: list[ManifestFile] = []
    problems: list[Diagnostic] = []
    seen: set[str] = set()

    def add(path: str, display: str, root: str, root_display: str) -> None:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            found.append(ManifestFile(path, display, root, root_display))

    for arg in paths:
        if os.path.isdir(arg):
            for dirpath, dirnames, filenames in os.walk(arg):
                dirnames[:] = sorted(
                    d for d in dirnames if not d.startswith(".") and d not in _SKIPPED_DIRS
                )
                for name in sorted(filenames):
                    # Hidden files are tool configuration (.pre-commit-config.yaml,
                    # .gitlab-ci.yml, ...), never manifests; pass one by name to load it.
                    if name.lower().endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                        path = os.path.join(dirpath, name)
                        display = os.path.relpath(path, arg) if arg in (".", "./") else path
                        add(path, display, arg, arg)
        elif os.path.exists(arg):
            directory = os.path.dirname(arg) or "."
            add(arg, arg, directory, directory)
        else:
            problems.append(Diagnostic("no such file or directory", Location(arg)))
    if not found and not problems:  # valid (nothing desired), but probably worth a look
        where = ", ".join(paths)
        problems.append(
            Diagnostic(f"no manifests (*.yaml, *.yml) found in {where}", severity="warning")
        )
    return found, problems


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


def read_documents(file: ManifestFile) -> tuple[list[Document], list[Diagnostic]]:
    where = Location(file.display)
    try:
        # A FIFO would block forever and a device (a symlink to /dev/zero) never ends.
        if not stat.S_ISREG(os.stat(file.path).st_mode):
            return [], [Diagnostic("not a regular file; a manifest must be one", where)]
        with open(file.path, "rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as e:
        return [], [Diagnostic(f"cannot read: {e.strerror or e}", where)]
    if len(data) > MAX_MANIFEST_BYTES:
        limit = f"{MAX_MANIFEST_BYTES:,} bytes ({MAX_MANIFEST_BYTES // 2**20} MiB)"
        return [], [Diagnostic(f"larger than {limit}; put big datasets in a data file", where)]
    try:
        text = decode_utf8(data, file.display)
    except DatasetError as e:
        return [], [e.diagnostic]
    return parse(text, file.display)


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
    if problems:
        return None, problems
    model_class = DOCUMENT_MODELS[str(kind)]
    try:
        model: Any = model_class.model_validate(data)
    except ValidationError as e:
        errors = from_validation_error(e, model_class, doc)
        return None, sorted(errors, key=lambda d: _position(d, doc))
    if isinstance(model, TunedModelDocument):
        problems.extend(_check_tuned_model(model, doc))
    return model, problems


def _check_tuned_model(model: TunedModelDocument, doc: Document) -> list[Diagnostic]:
    """The rules that span fields, each pointed at the key to change."""
    problems: list[Diagnostic] = []
    problems.extend(_check_dataset(model.spec.dataset, doc, ("spec", "dataset")))
    if model.spec.validation is not None:
        problems.extend(_check_dataset(model.spec.validation, doc, ("spec", "validation")))
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


def _within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


def dataset_file(file: ManifestFile, relative: str) -> tuple[str, str]:
    """``spec.dataset.path`` -> (path to open, path to show); `ValueError` says what is wrong.

    The path is relative to the manifest's directory and must stay inside ``file.root``:
    absolute paths, ``..`` escapes and symlinks that resolve outside are refused.
    """
    shown_root = file.root_display
    if os.path.isabs(relative) or relative.startswith(("/", "\\")):
        raise ValueError(
            f"{relative!r} is an absolute path; give a path relative to the manifest's "
            "directory, inside the directory tree being loaded"
        )
    manifest_dir = os.path.dirname(os.path.abspath(file.path))
    root = os.path.abspath(file.root)
    joined = os.path.normpath(os.path.join(manifest_dir, relative))
    if not _within(joined, root):
        raise ValueError(
            f"{relative!r} points outside the directory tree being loaded ({shown_root}); "
            "'..' may not leave it"
        )
    real, real_root = os.path.realpath(joined), os.path.realpath(root)
    if not _within(real, real_root):
        raise ValueError(
            f"{relative!r} is a symlink that resolves outside the directory tree being loaded "
            f"({shown_root}): {real}"
        )
    display = os.path.normpath(os.path.join(os.path.dirname(file.display), relative))
    suffix = os.path.splitext(relative)[1].lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{relative!r}: unsupported file type {suffix or '(none)'!r}; "
            f"use one of {', '.join(SUFFIXES)}"
        )
    if not os.path.exists(real):
        raise ValueError(f"no such file: {display}")
    if not os.path.isfile(real):
        raise ValueError(f"not a file: {display}")
    return real, display


def example_rows(doc: Document, key: str = "dataset") -> Iterator[Row]:
    """The inline examples of a valid TunedModel document, located and field-named;
    ``key`` is ``dataset`` or ``validation``."""
    examples = doc.data["spec"][key]["examples"]
    positions, start = doc.positions, (doc.start.line, doc.start.col)
    for i, value in enumerate(examples):
        line, col = positions.get(("spec", key, "examples", i), start)
        yield Row(doc.file, line, col, f"spec.{key}.examples[{i}]", value)


def inline_rows(file: ManifestFile, index: int, key: str = "dataset") -> Iterator[Item]:
    """Re-read a manifest file and yield the inline examples of its ``index``-th document."""
    documents, problems = read_documents(file)
    if problems:
        yield from problems
        return
    try:
        doc = documents[index]
        if not isinstance(doc.data["spec"][key]["examples"], list):
            raise TypeError
    except (IndexError, KeyError, TypeError):
        yield Diagnostic(
            "changed since it was validated; run the command again", Location(file.display)
        )
        return
    yield from example_rows(doc, key)


def _position(diagnostic: Diagnostic, doc: Document) -> tuple[int, int]:
    where = diagnostic.location or doc.start
    return (where.line or 0, where.col or 0)
