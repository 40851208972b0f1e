"""Notes the planner adds to training changes about how the run is set up."""

from __future__ import annotations

from dataclasses import replace

from gitops_tune.plan.model import Change


def further_notes(changes: list[Change]) -> list[Change]:
    """A run that starts from an existing tuned model (continuous tuning) says so."""
    out = []
    for c in changes:
        options = c.desired.options if c.desired is not None else None
        if c.action.trains and options is not None and options.pre_tuned_model:
            at = (
                f" (checkpoint {options.pre_tuned_checkpoint})"
                if options.pre_tuned_checkpoint
                else ""
            )
            c = replace(c, notes=(f"tune further from {options.pre_tuned_model}{at}", *c.notes))
        out.append(c)
    return out
