"""Manifests -> desired state: find the documents, settle the settings, resolve each model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitops_tune import dataset, manifest
from gitops_tune.desired import stages
from gitops_tune.desired.resolve import resolve, scan_jobs
from gitops_tune.desired.state import (
    DesiredModel,
    DesiredState,
    RemoteHashes,
    RemoteObjects,
    RemoteRead,
)
from gitops_tune.errors import Diagnostic, Location, UserError
from gitops_tune.settings import Invocation, VertexTarget, WorkspaceDoc


def load(
    paths: Sequence[str],
    invocation: Invocation,
    *,
    remote_hashes: RemoteHashes | None = None,
    remote_objects: RemoteObjects | None = None,
    remote_read: RemoteRead | None = None,
) -> DesiredState:
    """Load, validate and fingerprint every manifest under ``paths``.

    The settings are settled from ``invocation`` (flags, environment) and the tree's
    Workspace document; the backend's record decides which fields apply and the
    hyperparameter defaults. Each dataset is streamed once (count, limits, fingerprint);
    ``gs://`` datasets are fingerprinted by ``remote_hashes`` (a missing one is an error where
    such a dataset is declared), the media objects of chat datasets by ``remote_objects``
    (batched lookups); a ``gs://`` evaluation set is read by ``remote_read``. Raises
    `UserError` with every problem found; warnings are returned in `DesiredState.warnings`.
    """
    state, errors = collect(
        paths,
        invocation,
        remote_hashes=remote_hashes,
        remote_objects=remote_objects,
        remote_read=remote_read,
    )
    if errors:
        raise UserError(errors)
    return state


@dataclass
class _Documents:
    """The documents of a tree, in file order, before any dataset is read."""

    workspace: WorkspaceDoc | None = None
    pending: list[tuple[manifest.Parsed, Location, list[Diagnostic]]] = field(default_factory=list)
    per_file: list[list[Diagnostic]] = field(default_factory=list)  # errors stay in file order
    declared: dict[str, Location] = field(default_factory=dict)

    def add(self, item: manifest.Parsed, file_errors: list[Diagnostic]) -> None:
        doc, model = item.document, item.model
        where = doc.locate(("metadata", "name"))
        if isinstance(model, manifest.WorkspaceDocument):
            if self.workspace is not None:
                file_errors.append(
                    Diagnostic(
                        f"a second Workspace document; the first is at {self.workspace.location}"
                        " (at most one per tree)",
                        doc.locate(("kind",)),
                        "kind",
                    )
                )
                return
            self.workspace = _workspace(model, where)
            return
        name = model.metadata.name
        if name in self.declared:
            file_errors.append(
                Diagnostic(
                    f"duplicate model name {name!r}; also declared at {self.declared[name]}",
                    where,
                    "metadata.name",
                )
            )
            return
        self.declared[name] = where
        self.pending.append((item, where, file_errors))


def collect(
    paths: Sequence[str],
    invocation: Invocation,
    *,
    remote_hashes: RemoteHashes | None = None,
    remote_objects: RemoteObjects | None = None,
    remote_read: RemoteRead | None = None,
) -> tuple[DesiredState, list[Diagnostic]]:
    """Like `load`, but returns the errors along with the models that had none."""
    files, found = manifest.discover(paths)
    errors = [d for d in found if d.severity == "error"]
    general = tuple(d for d in found if d.severity == "warning")
    docs = _Documents()
    for file in files:
        parsed, problems = manifest.load_file(file)
        file_errors = list(problems)
        docs.per_file.append(file_errors)
        for item in parsed:
            docs.add(item, file_errors)
    settings = invocation.settle(docs.workspace)
    scans = dataset.Scans(settings.scan_cache, settings.scan_workers)
    scans.prefetch(job for item, _, _ in docs.pending for job in scan_jobs(item, settings))
    models: dict[str, DesiredModel] = {}
    for item, where, file_errors in stages.ordered(docs.pending):  # parents first
        parent_name = stages.parent_of(item)
        parent = models.get(parent_name) if parent_name else None
        if parent_name and parent is None:
            continue  # the parent has errors of its own: the child cannot be fingerprinted
        desired, problems = resolve(
            item, where, settings, remote_hashes, scans, remote_objects, remote_read, parent=parent
        )
        file_errors.extend(problems)
        if desired is not None:
            models[desired.name] = desired
    errors += [e for file_errors in docs.per_file for e in file_errors]
    ordered = tuple(models[n] for n in sorted(models))
    warnings = general + tuple(w for m in ordered for w in m.warnings)
    return DesiredState(ordered, docs.workspace, settings, warnings), errors


def _workspace(model: manifest.WorkspaceDocument, where: Location) -> WorkspaceDoc:
    spec = model.spec
    vertex = spec.vertex
    return WorkspaceDoc(
        model.metadata.name,
        spec.backend,
        where,
        vertex=VertexTarget(vertex.project, vertex.location, vertex.stagingBucket)
        if vertex
        else VertexTarget(),
        dialect=spec.local.dialect if spec.local else None,
        prices=_beside(where.file, spec.review.prices) if spec.review else None,
    )


def _beside(manifest_file: str, path: str | None) -> str | None:
    """``path`` as written in the manifest, relative to the manifest's folder."""
    if path is None:
        return None
    return str(Path(manifest_file).parent / path) if not Path(path).is_absolute() else path
