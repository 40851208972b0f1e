"""`gitops-tune status`: the workspace's models, their state, progress and last loss."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from gitops_tune.commands.common import open_session
from gitops_tune.progress import describe
from gitops_tune.providers.base import RemoteModel


def run(
    paths: Sequence[str], *, workspace: str | None, backend: str | None, fmt: str = "text"
) -> int:
    session = open_session(paths, workspace, backend)
    desired = {d.name: d for d in session.desired.models}
    observed = sorted(session.observe(), key=lambda m: (_name(m), m.create_time, m.id))
    rows = []
    for m in observed:
        d = desired.get(_name(m))
        role = "removed" if d is None else "current"
        if d is not None and m.owner is not None and m.owner.fingerprint != d.fingerprint:
            role = "superseded"
        if d is not None:
            progress, _ = describe(d, m)
        else:
            last = m.snapshots[-1] if m.snapshots else None
            progress = m.state.value + (f"  step {last.step}" if last else "")
        loss = f"{m.snapshots[-1].mean_loss:.4f}" if m.snapshots else "-"
        rows.append([_name(m), m.id, m.state.value, role, progress, loss])
    if fmt == "json":
        keys = ["name", "model", "state", "role", "progress", "loss"]
        click.echo(
            json.dumps({"models": [dict(zip(keys, r, strict=True)) for r in rows]}, indent=2)
        )
        return 0
    if not rows:
        click.echo(f'No models in workspace "{session.settings.workspace}".')
        return 0
    table = [["NAME", "TUNED MODEL", "STATE", "ROLE", "PROGRESS", "LOSS"], *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _name(m: RemoteModel) -> str:
    return m.owner.name if m.owner else ""
