"""``gitops-tune validate``: check manifests and datasets without talking to any API."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from gitops_tune import review
from gitops_tune.dataset import short_fingerprint
from gitops_tune.desired import DesiredState, collect
from gitops_tune.errors import Diagnostic, UserError
from gitops_tune.providers import RemoteHashes
from gitops_tune.settings import Invocation


def run(paths: Sequence[str], *, fmt: str = "text", strict: bool = False) -> int:
    """Exit 0 when valid (warnings allowed unless ``strict``), 1 otherwise. Data-quality
    findings (docs/data-quality.md) are warnings or errors like any other."""
    storage = RemoteHashes()
    state, errors = collect(
        paths,
        Invocation.from_environ(),
        remote_hashes=storage,
        remote_objects=storage.objects,
        remote_read=storage.read,
    )
    checked = {m.name: review.check(m) for m in state.models}
    found = [f.diagnostic() for c in checked.values() for f in c.findings]
    warnings = [*state.warnings, *(d for d in found if d.severity == "warning")]
    errors = [*errors, *(d for d in found if d.severity == "error")]
    if fmt == "json":
        click.echo(json.dumps(_json(state, errors, checked), indent=2, ensure_ascii=False))
        return 1 if errors or (strict and warnings) else 0
    if errors:
        raise UserError(errors)
    _text(state, warnings)
    if strict and warnings:
        count = len(warnings)
        click.echo(f"error: {count} warning{'s' if count != 1 else ''} with --strict", err=True)
        return 1
    return 0


def _json(
    state: DesiredState, errors: list[Diagnostic], checked: dict[str, review.Checked]
) -> dict[str, object]:
    workspace = state.workspace
    return {
        "models": [
            {
                "name": m.name,
                "fingerprint": m.fingerprint,
                "examples": m.example_count,
                "warnings": [w.to_json() for w in m.warnings],
                "findings": [f.to_json() for f in checked[m.name].findings],
                "silenced": [
                    {"rule": r, "reason": why}
                    for r, why in sorted(checked[m.name].silenced.items())
                ],
            }
            for m in state.models
        ],
        "workspace": (
            {"name": workspace.name, "backend": workspace.backend} if workspace else None
        ),
        "warnings": [w.to_json() for w in state.warnings],  # all, including the models'
        # findings are listed per model (with their rule) and not repeated here
        "errors": [e.to_json() for e in errors],
    }


def _text(state: DesiredState, warnings: list[Diagnostic]) -> None:
    models = state.models
    width = max((len(m.name) for m in models), default=0)
    digits = max((len(str(m.example_count)) for m in models), default=0)
    for m in models:
        noun = "example" if m.example_count == 1 else "examples"
        click.echo(
            f"{m.name:<{width}}  {m.example_count:>{digits}} {noun}  "
            f"fingerprint {short_fingerprint(m.fingerprint)}"
        )
    for warning in warnings:
        click.echo(str(warning))
    n, w = len(models), len(warnings)
    summary = f"{n} model{'s' if n != 1 else ''} valid"
    if w:
        summary += f", {w} warning{'s' if w != 1 else ''}"
    if state.workspace is not None:
        backend = state.workspace.backend or "default backend"
        summary += f"; workspace {state.workspace.name} ({backend})"
    else:
        summary += "; no Workspace document"
    click.echo(summary)
