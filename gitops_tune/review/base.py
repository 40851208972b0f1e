"""Each model against the base of the change: its manifest and data as they are at a git REF.

Only what changed is read at REF. `git diff` names the files under the paths that differ
between REF and the working tree; a model whose manifest file and data files are all
unchanged is unchanged, and nothing of it is read. For the others, the manifest at REF is
found by the model's name (so a manifest renamed, or split across files, still pairs up),
its data file is materialized from REF (wherever it was: a moved dataset pairs up too), and
the document is resolved exactly as the working tree's is, then compared example by example.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from gitops_tune import manifest as mf
from gitops_tune.desired.resolve import resolve
from gitops_tune.desired.state import DesiredModel
from gitops_tune.manifest.files import MANIFEST_SUFFIXES, SKIPPED_DIRS
from gitops_tune.review.diff import Pairs, diff, shorten
from gitops_tune.review.gitref import GitTree, repo_path
from gitops_tune.review.model import BaseChange
from gitops_tune.review.rules import pairs
from gitops_tune.settings import Settings


@dataclass
class BaseTree:
    """The manifests of REF, parsed on demand, one file at a time."""

    tree: GitTree
    scopes: list[tuple[str, str]]  # (repository path of a PATHS argument, the argument)
    settings: Settings
    changed: set[str]
    _files: dict[str, list[mf.Parsed]] = field(default_factory=dict)

    @classmethod
    def open(cls, tree: GitTree, paths: Sequence[str], settings: Settings) -> BaseTree:
        scopes = [(repo_path(tree.top, p), p) for p in paths]
        quiet = dataclasses.replace(settings, fingerprint_cache=False)
        return cls(tree, scopes, quiet, tree.changed(paths))

    def manifests(self) -> Iterator[str]:
        """Repository paths of REF's manifest files under the paths (as `discover` finds
        them: *.yaml/*.yml, hidden files and directories skipped)."""
        for path in sorted(self.tree.blobs):
            scope = self._scope(path)
            if scope is None or not path.lower().endswith(MANIFEST_SUFFIXES):
                continue
            inner = path[len(scope[0]) :].lstrip("/").split("/")
            if not any(p.startswith(".") or p in SKIPPED_DIRS for p in inner):
                yield path

    def documents(self, path: str) -> list[mf.Parsed]:
        """The valid TunedModel documents of REF's file ``path``."""
        if path not in self._files:
            self._files[path] = self._load(path)
        return self._files[path]

    def _load(self, path: str) -> list[mf.Parsed]:
        local = self.tree.materialize(path)
        scope = self._scope(path)
        if local is None or scope is None:
            return []
        file = mf.ManifestFile(local, self.display(path), self.tree.local(scope[0]), scope[1])
        parsed, _ = mf.load_file(file)
        return [p for p in parsed if isinstance(p.model, mf.TunedModelDocument)]

    def display(self, path: str) -> str:
        return os.path.relpath(os.path.join(self.tree.top, *path.split("/")))

    def _scope(self, path: str) -> tuple[str, str] | None:
        for s in self.scopes:
            if not s[0] or path == s[0] or path.startswith(s[0] + "/"):
                return s
        return None

    def resolve(self, item: mf.Parsed) -> DesiredModel | str:
        """A document of REF as the working tree's would be resolved; or why it cannot be."""
        rp = os.path.relpath(item.file.path, self.tree.scratch).replace(os.sep, "/")
        spec = item.document.data.get("spec", {})
        for key in ("dataset", "validation"):
            relative = (spec.get(key) or {}).get("path")
            if isinstance(relative, str):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rp), relative))
                self.tree.materialize(target)
        where = item.document.locate(("metadata", "name"))
        model, problems = resolve(item, where, self.settings, None)
        if model is None:
            return "; ".join(str(p).replace(self.tree.scratch + os.sep, "") for p in problems[:3])
        return model


def compare(base: BaseTree, models: Sequence[DesiredModel], show: int) -> dict[str, BaseChange]:
    """Every model of the working tree, and every model only REF has, against REF."""
    out: dict[str, BaseChange] = {}
    moved: dict[str, mf.Parsed] = {}  # name -> its document at REF, from changed files
    for path in base.manifests():
        if path in base.changed:
            for item in base.documents(path):
                moved.setdefault(item.model.metadata.name, item)
    for m in models:
        rp = repo_path(base.tree.top, m.manifest_path)
        data = [s.path for s in (m.source, m.validation_source) if s is not None and s.path]
        touched = rp in base.changed or any(
            repo_path(base.tree.top, d) in base.changed for d in data
        )
        if not touched:
            out[m.name] = BaseChange("unchanged")
            continue
        found = moved.get(m.name) if rp in base.changed else _named(base.documents(rp), m.name)
        out[m.name] = BaseChange("new") if found is None else _against(base, found, m, show)
    for name, item in sorted(moved.items()):
        if name not in out:
            out[name] = BaseChange("removed", manifest=(item.file.display, ""))
    return out


def _named(items: list[mf.Parsed], name: str) -> mf.Parsed | None:
    return next((i for i in items if i.model.metadata.name == name), None)


def _pairs(m: DesiredModel) -> Pairs:
    """The examples as read (input without the preamble), straight from the rows: the
    fingerprint is not recomputed for a comparison."""
    source = m.source
    assert source is not None
    return lambda: ((inp, out) for _, inp, out, _ in pairs(source, m.options.method))


def _against(base: BaseTree, item: mf.Parsed, head: DesiredModel, show: int) -> BaseChange:
    old = base.resolve(item)
    if isinstance(old, str):
        dataset = diff(None, _pairs(head), head.task, show) if head.source else None
        return BaseChange("changed", dataset, problem=old)
    before, after = old.hyperparameters.fields(), head.hyperparameters.fields()
    hyper = tuple(
        (k, before.get(k), after.get(k))
        for k in sorted({*before, *after})
        if before.get(k) != after.get(k)
    )
    dataset = None
    if head.source is not None:
        dataset = diff(_pairs(old) if old.source else None, _pairs(head), head.task, show)
    change = BaseChange(
        "changed",
        dataset,
        moved=_moved(old.dataset_source, head.dataset_source),
        manifest=_pair(item.file.display, head.location.file),
        preamble=_pair(shorten(old.preamble), shorten(head.preamble)),
        hyperparameters=hyper,
        base_model=_pair(old.base_model, head.base_model),
    )
    same = old.fingerprint == head.fingerprint and not change.moved and not change.manifest
    return dataclasses.replace(change, status="unchanged") if same else change


def _pair(before: str, after: str) -> tuple[str, str] | None:
    return None if before == after else (before, after)


def _moved(before: str, after: str) -> tuple[str, str] | None:
    """The data file moved; inline examples move with their manifest (shown on its own)."""
    inline = before.endswith(" (inline)") and after.endswith(" (inline)")
    return None if inline else _pair(before, after)
