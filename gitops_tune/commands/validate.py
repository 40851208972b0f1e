"""``gitops-tune validate``: check manifests and datasets without talking to any API."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from gitops_tune.dataset import short_fingerprint
from gitops_tune.desired import DesiredState, collect
from gitops_tune.errors import Diagnostic, UserError
from gitops_tune.providers import RemoteHashes
from gitops_tune.settings import Invocation


def run(paths: Sequence[str], *, fmt: str = "text", strict: bool = False) -> int:
    """Exit 0 when valid (warnings allowed unless ``strict``), 1 otherwise."""
    state, errors = collect(paths, Invocation.from_environ(), remote_hashes=RemoteHashes())
    if fmt == "json":
        click.echo(json.dumps(_json(state, errors), indent=2, ensure_ascii=False))
        return 1 if errors or (strict and state.warnings) else 0
    if errors:
        raise UserError(errors)
    _text(state)
    if strict and state.warnings:
        count = len(state.warnings)
        click.echo(f"error: {count} warning{'s' if count != 1 else ''} with --strict", err=True)
        return 1
    return 0


def _json(state: DesiredState, errors: list[Diagnostic]) -> dict[str, object]:
    workspace = state.workspace
    return {
        "models": [
            {
                "name": m.name,
                "fingerprint": m.fingerprint,
                "examples": m.example_count,
                "warnings": [w.to_json() for w in m.warnings],
            }
            for m in state.models
        ],
        "workspace": (
            {"name": workspace.name, "backend": workspace.backend} if workspace else None
        ),
        "warnings": [w.to_json() for w in state.warnings],  # all, including the models'
        "errors": [e.to_json() for e in errors],
    }


def _text(state: DesiredState) -> None:
    models = state.models
    width = max((len(m.name) for m in models), default=0)
    digits = max((len(str(m.example_count)) for m in models), default=0)
    for m in models:
        noun = "example" if m.example_count == 1 else "examples"
        click.echo(
            f"{m.name:<{width}}  {m.example_count:>{digits}} {noun}  "
            f"fingerprint {short_fingerprint(m.fingerprint)}"
        )
    for warning in state.warnings:
        click.echo(str(warning))
    n, w = len(models), len(state.warnings)
    summary = f"{n} model{'s' if n != 1 else ''} valid"
    if w:
        summary += f", {w} warning{'s' if w != 1 else ''}"
    if state.workspace is not None:
        backend = state.workspace.backend or "default backend"
        summary += f"; workspace {state.workspace.name} ({backend})"
    else:
        summary += "; no Workspace document"
    click.echo(summary)
