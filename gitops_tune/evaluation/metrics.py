"""Scoring answers against expected outputs: ``exactMatch``, ``contains``, ``regex`` and
``labelAccuracy`` (accuracy, plus precision and recall per label), after normalisation."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

METRICS = ("exactMatch", "contains", "regex", "labelAccuracy")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


@dataclass(frozen=True)
class Normalization:
    """What is ignored when an answer is compared with its expected output."""

    ignore_case: bool = True
    collapse_whitespace: bool = True  # trim, and runs of whitespace count as one space
    strip_punctuation: bool = False

    def apply(self, text: str) -> str:
        if self.strip_punctuation:
            text = text.translate(_PUNCTUATION)
        if self.collapse_whitespace:
            text = " ".join(text.split())
        if self.ignore_case:
            text = text.casefold()
        return text


@dataclass(frozen=True)
class LabelScore:
    """One label of a classification: None where it is undefined (never expected: no recall;
    never answered: no precision)."""

    label: str
    precision: float | None
    recall: float | None
    support: int  # how many examples expect this label


@dataclass(frozen=True)
class Result:
    score: float  # the share of examples answered correctly, 0..1
    correct: int
    count: int
    labels: tuple[LabelScore, ...] = ()  # labelAccuracy only
    tokens: int = 0  # tokens the evaluation used, as the backend counted them


def correct(metric: str, answer: str, expected: str, norm: Normalization) -> bool:
    """Is ``answer`` right? For ``regex`` the expected output is a pattern the whole
    (normalised) answer must match; the pattern itself is not normalised."""
    if metric == "regex":
        flags = re.IGNORECASE if norm.ignore_case else 0
        text = " ".join(answer.split()) if norm.collapse_whitespace else answer
        return re.fullmatch(expected, text, flags) is not None
    got, want = norm.apply(answer), norm.apply(expected)
    if metric == "contains":
        return want in got
    return got == want  # exactMatch, labelAccuracy


def score(
    metric: str, pairs: Sequence[tuple[str, str]], norm: Normalization, tokens: int = 0
) -> Result:
    """Score (answer, expected) pairs; an empty set scores 0."""
    hits = sum(correct(metric, a, e, norm) for a, e in pairs)
    total = len(pairs)
    labels = _labels(pairs, norm) if metric == "labelAccuracy" else ()
    return Result(hits / total if total else 0.0, hits, total, labels, tokens)


def _labels(pairs: Sequence[tuple[str, str]], norm: Normalization) -> tuple[LabelScore, ...]:
    expected = Counter(norm.apply(e) for _, e in pairs)
    answered = Counter(norm.apply(a) for a, _ in pairs)
    right = Counter(norm.apply(e) for a, e in pairs if norm.apply(a) == norm.apply(e))
    out = []
    for label in sorted(expected):  # answers outside the expected labels count as misses
        precision = right[label] / answered[label] if answered[label] else None
        out.append(LabelScore(label, precision, right[label] / expected[label], expected[label]))
    return tuple(out)
