"""Data-quality rules: what is wrong with a dataset, found in one streaming pass.

Each rule has a code, a severity and a reason it matters; docs/data-quality.md says the same
for users, and ``spec.review.ignore`` silences a rule for one model, with a reason. The pass
holds per example only hashes, lengths and line numbers, never the texts. A rule reports at
most `MAX_PER_RULE` lines per dataset, then one line that counts the rest.

``empty-output`` is checked where the data is read (`gitops_tune.dataset.checks`): the API
refuses such an example, so it is always an error and cannot be silenced.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import get_args

from gitops_tune.dataset import chat
from gitops_tune.dataset import methods as rows
from gitops_tune.dataset.records import Row, Source
from gitops_tune.dataset.tuning_limits import media_resolutions
from gitops_tune.errors import Location, Severity
from gitops_tune.manifest.models import ReviewRule
from gitops_tune.review.model import Finding


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    finds: str


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule("duplicate-example", "warning", "the same input and output as an earlier example"),
        Rule("conflicting-labels", "warning", "the same input with a different output"),
        Rule("validation-leakage", "warning", "a validation input that is also a training input"),
        Rule("preamble-in-input", "warning", "an input that already starts with the preamble"),
        Rule("length-outlier", "warning", "an example far longer than the dataset's others"),
        Rule("label-imbalance", "warning", "a label under 2% or over 80% of a label set"),
        Rule("mixed-input-format", "warning", "inputs with and without the common 'prefix:'"),
    )
}
assert set(RULES) == set(get_args(ReviewRule))
#: The tuning methods each rule runs on ("" is supervised): what an example's input and output
#: are differs per method (`pairs`), and a rule runs only where its question has an answer.
#: Same input, different output is a conflict only where the output is a single right answer
#: (supervised targets, reinforcement references); one preference prompt with several scored
#: pairs is ordinary. Preambles, label sets and "prefix:" formats are supervised text only.
METHODS: dict[str, tuple[str, ...]] = {
    "duplicate-example": ("", "preference", "reinforcement", "distillation"),
    "conflicting-labels": ("", "reinforcement"),
    "validation-leakage": ("", "preference", "reinforcement", "distillation"),
    "preamble-in-input": ("",),
    "length-outlier": ("", "preference", "reinforcement", "distillation"),
    "label-imbalance": ("",),
    "mixed-input-format": ("",),
}
assert set(METHODS) == set(RULES)
EMPTY_OUTPUT = Rule("empty-output", "error", "an empty or whitespace-only output")

MAX_PER_RULE = 5
MAX_LABELS = 20  # more distinct outputs than this are not a label set
MAX_LABEL_CHARS = 64
MIN_FOR_STATISTICS = 20  # length outliers and label shares need this many examples
_PREFIX = re.compile(r"\s*([^\W\d_][\w \-]{0,24}?)\s*:")


def key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()


def labels_of(counts: Counter[str] | None, total: int, task: str) -> Counter[str] | None:
    """The outputs as a label set, or None: at most `MAX_LABELS` distinct short outputs, each
    used at least twice on average (any size when the manifest says ``task: classification``)."""
    if counts is None or not counts or len(counts) > MAX_LABELS:
        return None
    if task == "classification" or total >= 3 * len(counts):
        return counts
    return None


def pairs(source: Source, method: str = "") -> Iterator[tuple[Location, str, str, int]]:
    """The valid rows of a source that was checked: (where, input, output, characters of
    text it trains on, the preamble not included). A chat example (`gitops_tune.dataset.chat`)
    is its conversation up to the last model turn (canonical JSON, system instruction
    included) and that turn's text, so "same input, different output" compares everything
    before the last model turn; its characters are its text parts' (`records.token_texts`),
    not the JSON's. A tuning method's row (`method_pairs`) is its prompt and what it is
    judged by."""
    if method:
        yield from method_pairs(source, method)
        return
    fin, fout = source.input_field, source.output_field
    for item in source.rows():
        if type(item) is Row and type(item.value) is dict:
            inp, out = item.value.get(fin), item.value.get(fout)
            if isinstance(inp, str) and isinstance(out, str):
                yield item.location, inp, out, len(inp) + len(out)
            elif chat.is_chat(item.value):
                try:
                    found = chat.parse(item.value, media_resolutions())
                except chat.ChatError:
                    continue
                yield item.location, found.prompt, found.output, found.chars


def method_pairs(source: Source, method: str) -> Iterator[tuple[Location, str, str, int]]:
    """The valid rows of a tuning method's dataset (`gitops_tune.dataset.methods`): the input
    is the prompt (system instruction and contents, canonical JSON); the output is what the
    row is judged by: a preference row's scored completions, a reinforcement row's
    references, nothing for a distillation prompt (the teacher writes its answer)."""
    resolutions = media_resolutions()
    for item in source.rows():
        if type(item) is not Row:
            continue
        try:
            found = rows.parse(method, item.value, resolutions)
        except chat.ChatError:
            continue
        row = json.loads(found.line)
        judged = {"preference": "completions", "reinforcement": "references"}.get(method)
        output = json.dumps(row.get(judged), sort_keys=True) if judged in row else ""
        yield item.location, found.prompt, output, found.chars


@dataclass
class _Pass:
    """What one pass over the training rows keeps: hashes, lengths, counts."""

    preamble: str
    method: str = ""  # the tuning method ("": supervised); rules run where `METHODS` says
    found: dict[str, list[Finding]] = field(default_factory=dict)
    extra: Counter[str] = field(default_factory=Counter)  # findings beyond MAX_PER_RULE
    seen: dict[bytes, tuple[bytes, Location]] = field(default_factory=dict)
    lengths: array[int] = field(default_factory=lambda: array("q"))
    lines: list[Location] = field(default_factory=list)
    labels: Counter[str] | None = field(default_factory=Counter)
    label_at: dict[str, Location] = field(default_factory=dict)  # each label's first example
    prefixes: Counter[str] = field(default_factory=Counter)
    prefix_of: list[str] = field(default_factory=list)  # interned: one string per prefix
    chars: int = 0  # characters of text that trains (`records.token_texts`): the token estimate
    _interned: dict[str, str] = field(default_factory=dict)

    def report(self, rule: str, message: str, where: Location) -> None:
        if self.method not in METHODS[rule]:
            return
        shown = self.found.setdefault(rule, [])
        if len(shown) < MAX_PER_RULE:
            shown.append(Finding(rule, RULES[rule].severity, message, where))
        else:
            self.extra[rule] += 1

    def add(self, where: Location, inp: str, out: str, chars: int) -> None:
        self.chars += len(self.preamble) + chars  # a chat example has no preamble
        k, o = key(inp), key(out)
        earlier = self.seen.get(k)
        if earlier is None:
            self.seen[k] = (o, where)
        elif earlier[0] == o:
            self.report("duplicate-example", f"duplicate of the example at {earlier[1]}", where)
        else:
            self.report(
                "conflicting-labels",
                f"the same input as {earlier[1]} with a different output",
                where,
            )
        pre = self.preamble.strip()
        if pre and inp.lstrip().startswith(pre):
            self.report(
                "preamble-in-input",
                "the input already starts with the preamble, which is prepended again",
                where,
            )
        self.lengths.append(len(inp) + len(out))
        self.lines.append(where)
        self._label(out, where)
        m = _PREFIX.match(inp)
        prefix = m.group(1).lower() + ":" if m else ""
        self.prefixes[prefix] += 1
        self.prefix_of.append(self._interned.setdefault(prefix, prefix))

    def _label(self, out: str, where: Location) -> None:
        if self.labels is None:
            return
        self.label_at.setdefault(out, where)
        if len(out) > MAX_LABEL_CHARS or (
            out not in self.labels and len(self.labels) >= MAX_LABELS
        ):
            self.labels = None
            return
        self.labels[out] += 1


def check(
    source: Source,
    preamble: str,
    task: str,
    validation: Source | None = None,
    method: str = "",
) -> tuple[list[Finding], int, int]:
    """All findings of a training set (and its validation set), in rule order then file
    order; with the example count and the characters the examples hold. ``method``: the
    tuning method whose rows these are ("": supervised)."""
    p = _Pass(preamble, method)
    for where, inp, output, chars in pairs(source, method):
        p.add(where, inp, output, chars)
    n = len(p.lengths)
    _outliers(p)
    _imbalance(p, n, task)
    _mixed_formats(p, n)
    if validation is not None:
        for where, inp, _, _ in pairs(validation, method):
            k = key(inp)
            if k in p.seen:
                p.report(
                    "validation-leakage",
                    f"this validation input is also a training input ({p.seen[k][1]})",
                    where,
                )
    out: list[Finding] = []
    for rule in RULES:
        out += p.found.get(rule, [])
        if p.extra[rule]:
            last = p.found[rule][-1]
            more = p.extra[rule]
            out.append(
                Finding(rule, last.severity, f"... and {more:,} more like it", last.location)
            )
    return out, n, p.chars


def _outliers(p: _Pass) -> None:
    """Tukey's far-out fence: longer than Q3 + 3 x IQR, and over twice the median."""
    if len(p.lengths) < MIN_FOR_STATISTICS:
        return
    q1, median, q3 = statistics.quantiles(p.lengths, n=4)
    fence = max(q3 + 3 * (q3 - q1), 2 * median)
    for length, where in zip(p.lengths, p.lines, strict=True):
        if length > fence:
            p.report(
                "length-outlier",
                f"{length:,} characters; the dataset's median is {median:,.0f}",
                where,
            )


def _imbalance(p: _Pass, n: int, task: str) -> None:
    labels = labels_of(p.labels, n, task)
    if labels is None or n < MIN_FOR_STATISTICS or len(labels) < 2:
        return
    for label, count in sorted(labels.items(), key=lambda kv: (kv[1], kv[0])):
        share = count / n
        if share < 0.02 or share > 0.80:
            side = "under 2%" if share < 0.02 else "over 80%"
            p.report(
                "label-imbalance",
                f"label {label!r} is {count:,} of {n:,} examples ({share:.1%}, {side})",
                p.label_at[label],
            )


def _mixed_formats(p: _Pass, n: int) -> None:
    """A 'prefix:' most inputs start with, that some do not (Google's tuning guide: production
    traffic must be formatted as the examples are, or the model can't recognize the pattern)."""
    if not p.prefixes or n < 2:
        return
    common, count = p.prefixes.most_common(1)[0]
    if not common or count == n or count * 2 < n:
        return
    odd = [w for w, prefix in zip(p.lines, p.prefix_of, strict=True) if prefix != common]
    shown = ", ".join(str(w.line) for w in odd[:5] if w.line is not None)
    p.report(
        "mixed-input-format",
        f"{len(odd):,} of {n:,} inputs do not start with {common!r} as the others do"
        + (f" (lines {shown})" if shown else ""),
        odd[0],
    )
