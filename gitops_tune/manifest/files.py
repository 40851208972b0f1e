"""Manifest files: finding them, reading their documents, and the paths and rows of the
datasets they name (the data files themselves are read by `gitops_tune.dataset`)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_tune.dataset.readers import RealPaths, decode_utf8
from gitops_tune.dataset.records import SUFFIXES, DatasetError, Item, Row
from gitops_tune.errors import Diagnostic, Location
from gitops_tune.manifest._yaml import Document, parse

MANIFEST_SUFFIXES = (".yaml", ".yml")
MAX_MANIFEST_BYTES = 32 * 1024 * 1024  # inline data is capped at 4 MiB serialized anyway
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


@dataclass(frozen=True)
class ManifestFile:
    """A manifest file and the directory tree its datasets must stay inside."""

    path: str  # the path to open
    display: str  # the path as shown in messages (as the user typed it)
    root: str  # the directory argument, or the file's directory when a file was given
    root_display: str
    realpath: RealPaths = field(default_factory=RealPaths, compare=False, repr=False)
    #: `dataset_file`'s answers for this file in this run (each path is asked for twice)
    datasets: dict[str, tuple[str, str] | str] = field(
        default_factory=dict, compare=False, repr=False
    )


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
    realpath = RealPaths()
    for arg in paths:
        if os.path.isdir(arg):
            candidates = [(path, display, arg) for path, display in _walk(arg)]
        elif os.path.exists(arg):
            candidates = [(arg, arg, os.path.dirname(arg) or ".")]
        else:
            problems.append(Diagnostic("no such file or directory", Location(arg)))
            continue
        for path, display, root in candidates:
            real = realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(ManifestFile(path, display, root, root, realpath))
    if not found and not problems:  # valid (nothing desired), but probably worth a look
        where = ", ".join(paths)
        problems.append(
            Diagnostic(f"no manifests (*.yaml, *.yml) found in {where}", severity="warning")
        )
    return found, problems


def _walk(directory: str) -> Iterator[tuple[str, str]]:
    """``(path, display)`` of the manifests under ``directory``, sorted, hidden ones skipped."""
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            # Hidden files are tool configuration (.pre-commit-config.yaml,
            # .gitlab-ci.yml, ...), never manifests; pass one by name to load it.
            if name.lower().endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                path = os.path.join(dirpath, name)
                display = os.path.relpath(path, directory) if directory in (".", "./") else path
                yield path, display


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


def _within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (both absolute and normalized)."""
    path, root = os.path.normcase(path), os.path.normcase(root)
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def dataset_file(file: ManifestFile, relative: str) -> tuple[str, str]:
    """``spec.dataset.path`` -> (path to open, path to show); `ValueError` says what is wrong
    (see `_dataset_file`). Asked again in the same run, the first answer."""
    known = file.datasets.get(relative)
    if known is None:
        try:
            known = file.datasets[relative] = _dataset_file(file, relative)
        except ValueError as e:
            known = file.datasets[relative] = str(e)
    if isinstance(known, str):
        raise ValueError(known)
    return known


def _dataset_file(file: ManifestFile, relative: str) -> tuple[str, str]:
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
    real, real_root = file.realpath(joined), file.realpath(root)
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
    try:
        regular = stat.S_ISREG(os.stat(real).st_mode)
    except OSError:
        raise ValueError(f"no such file: {display}") from None
    if not regular:
        raise ValueError(f"not a file: {display}")
    return real, display


def example_rows(doc: Document, key: str = "dataset") -> Iterator[Row]:
    """The inline examples of a valid TunedModel document, located and field-named;
    ``key`` is ``dataset``, ``validation`` or ``evaluation.dataset``."""
    path = tuple(key.split("."))
    examples = _under(doc.data["spec"], path)["examples"]
    positions, start = doc.positions, (doc.start.line, doc.start.col)
    for i, value in enumerate(examples):
        line, col = positions.get(("spec", *path, "examples", i), start)
        yield Row(doc.file, line, col, f"spec.{key}.examples[{i}]", value)


def inline_rows(file: ManifestFile, index: int, key: str = "dataset") -> Iterator[Item]:
    """Re-read a manifest file and yield the inline examples of its ``index``-th document."""
    documents, problems = read_documents(file)
    if problems:
        yield from problems
        return
    try:
        doc = documents[index]
        if not isinstance(_under(doc.data["spec"], tuple(key.split(".")))["examples"], list):
            raise TypeError
    except (IndexError, KeyError, TypeError):
        yield Diagnostic(
            "changed since it was validated; run the command again", Location(file.display)
        )
        return
    yield from example_rows(doc, key)


def _under(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data
