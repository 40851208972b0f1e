"""Plan -> text, markdown, json. Rendering never decides anything: it only shows the Plan."""

from __future__ import annotations

import json
from typing import Any

import click

from gitops_tune.plan.model import Action, AttributeChange, Change, Plan, Retiring
from gitops_tune.render import review as rv

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.RESTORE: "↺",
    Action.REPLACE: "±",
    Action.RECREATE: "-/+",
    Action.CANCEL: "⊘",
    Action.DELETE: "-",
    Action.IN_PROGRESS: "…",
    Action.EVALUATE: "?",
    Action.REJECTED: "✗",
    Action.NO_OP: " ",
}
_COLORS = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.RESTORE: "blue",
    Action.REPLACE: "magenta",
    Action.RECREATE: "magenta",
    Action.CANCEL: "red",
    Action.DELETE: "red",
    Action.IN_PROGRESS: "cyan",
    Action.EVALUATE: "cyan",
    Action.REJECTED: "red",
    Action.NO_OP: None,
}
# Markdown has no colour; an emoji a column keeps the table scannable in a pull request.
_EMOJI = {
    Action.CREATE: "🟢",
    Action.UPDATE: "🟡",
    Action.RESTORE: "⏪",
    Action.REPLACE: "🔁",
    Action.RECREATE: "♻️",
    Action.CANCEL: "⛔",
    Action.DELETE: "🔴",
    Action.IN_PROGRESS: "⏳",
    Action.EVALUATE: "🧪",
    Action.REJECTED: "❌",
    Action.NO_OP: "",
}
_SUMMARY_ORDER = [
    (Action.CREATE, "to create"),
    (Action.UPDATE, "to update"),
    (Action.REPLACE, "to replace"),
    (Action.RESTORE, "to restore"),
    (Action.RECREATE, "to recreate"),
    (Action.CANCEL, "to cancel"),
    (Action.DELETE, "to delete"),
    (Action.EVALUATE, "to evaluate"),
]
MARKDOWN_MARKER = "<!-- gitops-tune plan -->"


def summary_line(plan: Plan) -> str:
    counts = plan.summary()
    if not plan.has_changes:
        line = "No changes."
    else:
        parts = [f"{counts[a.value]} {label}" for a, label in _SUMMARY_ORDER if counts[a.value]]
        if plan.migration is not None:
            parts.append(f"{len(plan.migration.models)} to migrate")
        line = "Plan: " + ", ".join(parts) + "."
    extra = []
    if counts[Action.NO_OP.value]:
        extra.append(f"{counts[Action.NO_OP.value]} unchanged")
    if counts[Action.IN_PROGRESS.value]:
        extra.append(f"{counts[Action.IN_PROGRESS.value]} training")
    if counts[Action.REJECTED.value]:
        extra.append(f"{counts[Action.REJECTED.value]} rejected by evaluation")
    return line + (f" ({', '.join(extra)})" if extra else "")


def _value(v: Any) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return json.dumps(v, sort_keys=True)


def _target(c: Change) -> str:
    if c.new_id and c.remote and c.new_id != c.remote:
        return f"{c.remote} -> {c.new_id}"
    return c.new_id or c.remote or ""


def _diff_line(a: AttributeChange) -> str:
    if a.before is None:
        return f"+ {a.path}: {_value(a.after)}"
    if a.after is None:
        return f"- {a.path}: {_value(a.before)}"
    return f"~ {a.path}: {_value(a.before)} -> {_value(a.after)}"


def migration_line(plan: Plan) -> str:
    """What apply writes first, before any change ("": nothing)."""
    m = plan.migration
    if m is None:
        return ""
    return (
        f"migration: {len(m.models)} model(s)' facts in {m.source} (written by an earlier"
        " version) will be written onto their resources; the index is then ignored"
    )


def retiring_lines(r: Retiring) -> list[str]:
    """What retiring one model does: its steps, then what happens if the delete is refused
    (said as expected when a refusal is on record)."""
    out = [f"retiring {r.model}: {'; '.join(r.retirement.steps)}"]
    instead = "; ".join(r.retirement.if_refused)
    if instead and r.retirement.refused_before:
        out.append(f"  refusal expected ({r.retirement.refused_before}): then {instead}")
    elif instead:
        out.append(f"  if the delete is refused: {instead}")
    return out


def text(plan: Plan, color: bool = False) -> str:
    def style(s: str, action: Action, bold: bool = False) -> str:
        fg = _COLORS[action]
        return click.style(s, fg=fg, bold=bold) if color and (fg or bold) else s

    head = f'Workspace "{plan.workspace}" on backend {plan.backend or "?"}'
    if plan.destroy:
        head += " (destroy)"
    lines = [head, ""]
    if plan.migration is not None:
        lines += [migration_line(plan), ""]
    shown = [c for c in plan.changes if c.action is not Action.NO_OP]
    if not shown:
        lines.append("Remote models match the manifests.")
    width = max((len(c.name) for c in shown), default=0)
    for c in shown:
        symbol = SYMBOLS[c.action].rjust(3)
        lines.append(
            style(f"{symbol} {c.name.ljust(width)}  {c.action.value:<11} ", c.action, bold=True)
            + _target(c)
        )
        lines += [f"      {line}" for line in _change_lines(c)]
        lines += _review_lines(plan, c.name)
    lines += [f"    {name}: {note}" for name, note in _unchanged_notes(plan)]
    lines += ["", summary_line(plan)]
    if plan.review is not None:
        lines += [line for line in [rv.total(plan.review)] if line]
    return "\n".join(lines) + "\n"


def _change_lines(c: Change) -> list[str]:
    """What the text plan says under a change's headline: why, what, and what follows."""
    lines = [f"# {reason}" for reason in c.reasons]
    lines += [_diff_line(a) for a in c.diff]
    if c.superseded:
        retired = ", ".join(c.superseded)
        when = "passes its evaluation" if c.action is Action.EVALUATE else "is ACTIVE"
        lines.append(f"# retires {retired} once {c.new_id or c.remote} {when}")
    lines += [f"# note: {note}" for note in c.notes]
    return lines + [f"# {line}" for r in c.retirements for line in retiring_lines(r)]


def _unchanged_notes(plan: Plan) -> list[tuple[str, str]]:
    """Notes of unchanged models (an evaluation's scores: what a change must beat)."""
    return [(c.name, n) for c in plan.changes if c.action is Action.NO_OP for n in c.notes]


def _review_lines(plan: Plan, name: str) -> list[str]:
    r = plan.review.of(name) if plan.review is not None else None
    if r is None or plan.review is None:
        return []
    return [f"      # {line}" for line in rv.text_lines(r, plan.review)]


def _md_cell(v: Any) -> str:
    s = v if isinstance(v, str) else _value(v)
    s = s.replace("|", "\\|").replace("\n", " ")
    return f"`{s}`" if "`" not in s else s


def markdown(plan: Plan) -> str:
    title = f"### gitops-tune plan: workspace `{plan.workspace}` ({plan.backend or '?'})"
    review = plan.review
    headline = f"**{summary_line(plan)}**"
    training = rv.total(review) if review is not None else None
    out = [MARKDOWN_MARKER, title, "", headline + (f" {training}" if training else ""), ""]
    if plan.migration is not None:
        out += [f"> **Migration**: {migration_line(plan).removeprefix('migration: ')}", ""]
    shown = [c for c in plan.changes if c.action is not Action.NO_OP]
    out += [f"> **Note** on `{name}`: {note}\n" for name, note in _unchanged_notes(plan)]
    if shown:
        out += _md_table(plan, shown)
        out.append("")
        out += [line for c in shown for line in _md_notes(c)]
        if review is not None:
            for c in shown:
                r = review.of(c.name)
                out += rv.details(r, review) if r is not None else []
        for c in shown:
            if not c.diff:
                continue
            n = len(c.diff)
            out += [
                "<details>",
                f"<summary><code>{c.name}</code>: {c.action.value}"
                f" ({n} attribute{'s' if n != 1 else ''})</summary>",
                "",
                "| Attribute | Before | After |",
                "|---|---|---|",
            ]
            for a in c.diff:
                out.append(f"| `{a.path}` | {_md_cell(a.before)} | {_md_cell(a.after)} |")
            out += ["", "</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_notes(c: Change) -> list[str]:
    """A change's notes and retirements, each a quoted paragraph."""
    out = []
    for note in c.notes:
        out += [f"> **Note** on `{c.name}`: {note}", ""]
    for retiring in c.retirements:
        first, *rest = retiring_lines(retiring)
        out.append(f"> **Retirement** on `{c.name}`: {first}")
        out += [f"> {line.strip()}" for line in rest]
        out.append("")
    return out


def _md_table(plan: Plan, shown: list[Change]) -> list[str]:
    """One row per change; with a review, its examples ±, findings and cost too."""
    review = plan.review
    extra = " Examples | Findings | Cost |" if review is not None else ""
    out = [
        f"| | Model | Action | Tuned model |{extra} Why |",
        "|---|---|---|---|" + ("---|---|---|" if review is not None else "") + "---|",
    ]
    for c in shown:
        why = "; ".join(c.reasons).replace("|", "\\|")
        more = ""
        if review is not None:
            more = "".join(f" {cell} |" for cell in rv.cells(review.of(c.name)))
        out.append(
            f"| {_EMOJI[c.action]} | `{c.name}` | **{c.action.value}** | "
            f"{_md_cell(_target(c)) if _target(c) else ''} |{more} {why} |"
        )
    return out


def to_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n"


def render(plan: Plan, fmt: str, color: bool = False) -> str:
    if fmt == "markdown":
        return markdown(plan)
    if fmt == "json":
        return to_json(plan)
    return text(plan, color=color)
