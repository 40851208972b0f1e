"""A plan's review (dataset diff, findings, cost) as text lines and markdown; never decides."""

from __future__ import annotations

import json

from gitops_tune.review.model import BaseChange, Cost, DatasetDiff, ModelReview, Review, Sample


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def counts(d: DatasetDiff) -> str:
    """``120 → 121 (+2 −1 ~1)``."""
    return f"{d.before:,} → {d.after:,} (+{d.added:,} −{d.removed:,} ~{d.changed:,})"


def cost_text(c: Cost) -> str:
    approx = "~" if c.estimated else ""
    tokens = f"{approx}{c.tokens:,} training tokens"
    text = f"{tokens}, {usd(c.usd)}"
    if c.evaluation_calls:
        text += (
            f"; evaluation ~{c.evaluation_tokens:,} inference tokens"
            f" ({c.evaluation_calls:,} calls), not priced"
        )
    return text


def usd(amount: float | None) -> str:
    if amount is None:
        return "no price"
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else "under $0.01"


def _sample(kind: str, s: Sample) -> str:
    if kind == "~":
        return f"~ {_q(s.text_input)}: {_q(s.before or '')} -> {_q(s.output)}"
    return f"{kind} {_q(s.text_input)} -> {_q(s.output)}"


def _labels(d: DatasetDiff) -> str | None:
    if d.labels_after is None and d.labels_before is None:
        return None
    before, after = d.labels_before or {}, d.labels_after or {}
    parts = []
    for label in sorted({*before, *after}):
        b, a = before.get(label, 0), after.get(label, 0)
        parts.append(f"{label} {b}→{a}" if b != a else f"{label} {a}")
    return ", ".join(parts)


def _base_lines(b: BaseChange, ref: str | None) -> list[str]:
    since = f" since {ref}" if ref else ""
    if b.status == "new":
        return [f"new{since}"]
    lines = []
    if b.problem:
        lines.append(f"at {ref} it did not load: {b.problem}")
    if b.manifest and b.manifest[1]:
        lines.append(f"manifest moved: {b.manifest[0]} -> {b.manifest[1]}")
    if b.moved:
        lines.append(f"data moved: {b.moved[0]} -> {b.moved[1]}")
    if b.base_model:
        lines.append(f"baseModel: {b.base_model[0]} -> {b.base_model[1]}")
    if b.preamble:
        lines.append(f"preamble: {_q(b.preamble[0])} -> {_q(b.preamble[1])}")
    lines += [f"{path}: {json.dumps(x)} -> {json.dumps(y)}" for path, x, y in _hyper(b)]
    return lines


def _hyper(b: BaseChange) -> list[tuple[str, object, object]]:
    return [(f"hyperparameters.{k}", x, y) for k, x, y in b.hyperparameters]


def _dataset_lines(d: DatasetDiff, ref: str | None) -> list[str]:
    since = f" since {ref}" if ref else ""
    lines = [f"examples: {counts(d)}{since}"]
    for kind, samples in (
        ("+", d.added_samples),
        ("-", d.removed_samples),
        ("~", d.changed_samples),
    ):
        lines += ["  " + _sample(kind, s) for s in samples]
    labels = _labels(d)
    if labels:
        lines.append(f"labels: {labels}")
    return lines


def text_lines(r: ModelReview, review: Review) -> list[str]:
    """The lines under a model's plan line, each to be shown after ``# ``."""
    lines: list[str] = []
    b = r.base
    if b is not None and b.status != "unchanged":
        lines += _base_lines(b, review.base)
        if b.dataset is not None and b.status != "removed":
            lines += _dataset_lines(b.dataset, review.base)
    lines += [f"finding: {f}" for f in r.findings]
    lines += [f"silenced {rule}: {why}" for rule, why in sorted(r.silenced.items())]
    if r.cost is not None:
        lines.append("cost: " + cost_text(r.cost) + _rate(r.cost))
    return lines


def _rate(c: Cost) -> str:
    counts = f"; {c.counts}" if c.counts else ""
    if c.price_per_million is None:
        return f" ({c.counts})" if c.counts else ""
    return f" (${c.price_per_million:g} per 1M tokens; {c.price_source}{counts})"


def total(review: Review) -> str | None:
    costs = [m.cost for m in review.models if m.cost is not None]
    if not costs:
        return None
    total_usd = review.total_usd
    approx = "~" if any(c.estimated for c in costs) else ""
    if total_usd is not None:
        price = usd(total_usd)
    elif all(c.usd is None for c in costs):
        price = "no price"
    else:
        price = "no price for some base models"
    line = f"Training: {approx}{review.total_tokens:,} tokens, {price}."
    if review.evaluation_tokens:
        line += f" Evaluation: ~{review.evaluation_tokens:,} inference tokens, not priced."
    return line


# --- markdown ---------------------------------------------------------------------------------


def _md(s: str) -> str:
    s = s.replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return f"`{s}`"


def cells(r: ModelReview | None) -> tuple[str, str, str]:
    """(examples, findings, cost) for the plan table's row of a model."""
    if r is None:
        return "", "", ""
    b = r.base
    d = b.dataset if b is not None and b.status != "unchanged" else None
    if d is not None:
        examples = counts(d)
    elif b is not None:  # a model new (or removed) since the base has no diff to count
        examples = b.status if b.status in ("new", "removed") else "no change"
    else:
        examples = ""
    errors = sum(1 for f in r.findings if f.severity == "error")
    warnings = len(r.findings) - errors
    found = " ".join(
        p for p in (f"❌ {errors}" if errors else "", f"⚠️ {warnings}" if warnings else "") if p
    ) or ("✅" if r.cost is not None else "")
    return examples, found, cost_text(r.cost) if r.cost is not None else ""


def details(r: ModelReview, review: Review) -> list[str]:
    """A folded block with everything the review has on one model."""
    body: list[str] = []
    b = r.base
    if b is not None and b.status != "unchanged":
        body += [f"- {line}" for line in _base_lines(b, review.base)]
        if b.dataset is not None and b.status != "removed":
            body += _md_dataset(b.dataset, review.base)
    if r.findings or r.silenced:
        body += ["", "**Findings**", ""]
        body += [f"- `{f.location}` {f.severity} `{f.rule}`: {f.message}" for f in r.findings]
        body += [f"- silenced `{rule}`: {why}" for rule, why in sorted(r.silenced.items())]
    if r.cost is not None:
        body += ["", f"**Cost**: {cost_text(r.cost)}{_cost_detail(r.cost)}"]
    if not body:
        return []
    if body[0] == "":
        body = body[1:]
    examples, _, spent = cells(r)
    what = ", ".join(
        p for p in (f"examples {examples}" if examples else "", _n(len(r.findings)), spent) if p
    )
    summary = f"<summary><code>{r.name}</code>: {what}</summary>"
    return ["<details>", summary, "", *body, "", "</details>", ""]


def _n(findings: int) -> str:
    return f"{findings} finding{'s' if findings != 1 else ''}" if findings else "no findings"


def _cost_detail(c: Cost) -> str:
    how = "estimated at four characters a token" if c.estimated else "counted by the backend"
    out = f" ({c.tokens // max(c.epochs, 1):,} tokens × {c.epochs} epochs, {how}"
    if c.price_per_million is not None:
        out += f"; ${c.price_per_million:g} per 1M tokens, {c.price_source}"
    return out + (f"; {c.counts}" if c.counts else "") + ")"


def _md_dataset(d: DatasetDiff, ref: str | None) -> list[str]:
    since = f" since `{ref}`" if ref else ""
    out = [f"- examples: {counts(d)}{since}"]
    labels = _labels(d)
    if labels:
        out.append(f"- labels: {labels}")
    for title, kind, samples in (
        ("Added", "+", d.added_samples),
        ("Removed", "-", d.removed_samples),
        ("Changed", "~", d.changed_samples),
    ):
        if samples:
            out += ["", f"{title}:", ""]
            out += [_md_sample(kind, s) for s in samples]
    return out


def _md_sample(kind: str, s: Sample) -> str:
    if kind == "~":
        return f"- {_md(s.text_input)}: {_md(s.before or '')} → {_md(s.output)}"
    return f"- {_md(s.text_input)} → {_md(s.output)}"
