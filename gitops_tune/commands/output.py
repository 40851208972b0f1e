"""`gitops-tune output`: what an application needs to call each model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from gitops_tune.commands.session import open_session
from gitops_tune.plan import serving_model
from gitops_tune.providers.base import State
from gitops_tune.settings import Invocation


def run(
    paths: Sequence[str], *, workspace: str | None, backend: str | None, fmt: str = "text"
) -> int:
    session = open_session(paths, Invocation.from_environ(workspace, backend))
    observed = session.observe()
    out: dict[str, dict[str, Any]] = {}
    for d in session.desired.models:
        mine = [m for m in observed if m.owner is not None and m.owner.name == d.name]
        current = next((m for m in mine if m.owner and m.owner.fingerprint == d.fingerprint), None)
        serves = current is not None and current.state is State.ACTIVE
        if d.evaluation is not None:  # gated: what serves until the current model passes
            gated = serving_model(d, mine)
            current, serves = gated or current, gated is not None
        out[d.name] = {
            "model": current.call_name if current else None,
            "state": current.state.value if current else "MISSING",
            "preamble": d.preamble,
            "serving": serves,
        }
        if d.evaluation is not None:
            scores = current.scores if current is not None else None
            known = scores is not None and scores.key == d.evaluation.key
            out[d.name]["score"] = scores.score if known and scores else None
            if known and scores is not None and scores.best:
                out[d.name]["checkpoint"] = {
                    "best": scores.best,
                    "scores": {str(e): v for e, v in scores.checkpoints},
                }
    if fmt == "json":
        click.echo(json.dumps({"models": out}, indent=2, ensure_ascii=False))
        return 0
    for name, o in out.items():
        click.echo(f"{name}: {o['model'] or '(none)'} {o['state']} preamble={o['preamble']!r}")
        if "checkpoint" in o:
            each = ", ".join(f"{e}={v:.4f}" for e, v in o["checkpoint"]["scores"].items())
            best = o["checkpoint"]["best"]
            click.echo(f"  checkpoint best = epoch {best} (score {o['score']:.4f}; epochs: {each})")
    return 0
