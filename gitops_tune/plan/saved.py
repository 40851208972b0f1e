"""Saved plans (``plan --out FILE``, ``apply --plan FILE``).

A saved plan records the JSON plan and the manifest paths it was made from. Applying it
recomputes the plan and refuses when the manifests or what the provider reports have changed
since (a stale plan), like Terraform. It holds no credentials: nothing secret is in a Plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_tune.errors import UserError
from gitops_tune.plan.model import FORMAT_VERSION, Plan

KIND = "gitops-tune/saved-plan"


@dataclass(frozen=True)
class SavedPlan:
    paths: tuple[str, ...]
    workspace: str
    backend: str
    destroy: bool
    targets: tuple[str, ...]
    observed_digest: str
    desired_digest: str
    changes: tuple[tuple[str, str, str | None, str | None], ...]  # name, action, remote, new
    migration: tuple[str, ...] = ()  # the models whose facts it moves off an old side store

    def check_still_valid(self, fresh: Plan) -> None:
        moved = []
        if fresh.desired_digest != self.desired_digest:
            moved.append("the manifests or datasets changed")
        if fresh.observed_digest != self.observed_digest:
            moved.append("the remote models changed")
        migrating = fresh.migration.models if fresh.migration is not None else ()
        if not moved and (_change_keys(fresh) != self.changes or migrating != self.migration):
            moved.append("the plan would differ")
        if moved:
            raise UserError(
                f"saved plan is stale: {' and '.join(moved)} since it was made;"
                " run `gitops-tune plan --out FILE` again"
            )


def _change_keys(plan: Plan) -> tuple[tuple[str, str, str | None, str | None], ...]:
    return tuple((c.name, c.action.value, c.remote, c.new_id) for c in plan.changes)


def write(path: str, plan: Plan, paths: tuple[str, ...]) -> None:
    doc = {"kind": KIND, "paths": list(paths), "plan": plan.to_json()}
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read(path: str) -> SavedPlan:
    try:
        doc: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: cannot read saved plan: {e}") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise UserError(f"{path}: not a gitops-tune saved plan (made by `plan --out`)")
    p = doc.get("plan", {})
    if p.get("format_version") != FORMAT_VERSION:
        raise UserError(
            f"{path}: saved plan format {p.get('format_version')!r}; this version reads "
            f"{FORMAT_VERSION!r}"
        )
    try:
        return SavedPlan(
            paths=tuple(doc["paths"]),
            workspace=p["workspace"],
            backend=p["backend"],
            destroy=bool(p["destroy"]),
            targets=tuple(p["targets"]),
            observed_digest=p["observed_digest"],
            desired_digest=p["desired_digest"],
            changes=tuple((c["name"], c["action"], c["remote"], c["new"]) for c in p["changes"]),
            migration=tuple((p["migration"] or {}).get("models", ())),
        )
    except (KeyError, TypeError) as e:
        raise UserError(f"{path}: saved plan is incomplete ({e})") from None
