"""Evaluation outcomes as the table apply prints: new vs serving model, per label where the
metric has labels."""

from __future__ import annotations

from collections.abc import Sequence

from gitops_tune.evaluation import LabelScore, Result
from gitops_tune.gatekeeper import Outcome, Scored


def table(outcomes: Sequence[Outcome]) -> str:
    lines: list[str] = []
    for o in outcomes:
        lines.append(f"{o.name}: {o.judgement.why}")
        rows = [["", "new", "serving"]]
        rows.append([o.metric, _score(o.new), _score(o.serving)])
        rows += _label_rows(o.new.result, o.serving.result if o.serving else None)
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines += [
            "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        ]
        lines.append(f"  new: {o.new.model}")
        if o.serving is not None:
            lines.append(f"  serving: {o.serving.model}")
        if o.tokens:
            lines.append(f"  tokens used: {o.tokens}")
    return "\n".join(lines)


def _score(s: Scored | None) -> str:
    if s is None:
        return "-"
    counted = f" ({s.result.correct}/{s.result.count})" if s.result is not None else ""
    return f"{s.score:.4f}{counted}"


def _label_rows(new: Result | None, serving: Result | None) -> list[list[str]]:
    labels = {x.label for r in (new, serving) if r is not None for x in r.labels}
    out = []
    for label in sorted(labels):
        out.append([f"  {label} precision/recall", _pr(new, label), _pr(serving, label)])
    return out


def _pr(result: Result | None, label: str) -> str:
    found: LabelScore | None = next(
        (x for x in (result.labels if result else ()) if x.label == label), None
    )
    if found is None:
        return "-"
    return f"{_num(found.precision)}/{_num(found.recall)}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
