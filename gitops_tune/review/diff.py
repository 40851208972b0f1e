"""The examples of one model before and after a change, compared by per-example hashes.

Examples are keyed by their input without the preamble (a preamble change is shown on its
own, not as every example changed). One pass over the old version keeps, per example, the
hash of its input and output and its position; one pass over the new version matches
against them. Neither version's texts are held: the few examples shown are fetched by a
second pass over each side, which stops as soon as it has them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from gitops_tune.review.model import DatasetDiff, Sample
from gitops_tune.review.rules import MAX_LABEL_CHARS, MAX_LABELS, key, labels_of

Pairs = Callable[[], Iterable[tuple[str, str]]]
"""Re-readable (input without the preamble, output) pairs of one version of a dataset."""

SHOWN_CHARS = 200  # a shown text longer than this is shortened


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Labels:
    """Output counts while they can still be a label set; None once they cannot."""

    def __init__(self) -> None:
        self.counts: Counter[str] | None = Counter()

    def add(self, out: str) -> None:
        c = self.counts
        if c is None:
            return
        if len(out) > MAX_LABEL_CHARS or (out not in c and len(c) >= MAX_LABELS):
            self.counts = None
        else:
            c[out] += 1


@dataclass
class _Matched:
    added: list[int] = field(default_factory=list)  # positions in the new version
    removed: list[int] = field(default_factory=list)  # positions in the old version
    changed: list[tuple[int, int]] = field(default_factory=list)  # (old, new)


def diff(before: Pairs | None, after: Pairs, task: str, show: int) -> DatasetDiff:
    """Added, removed and changed examples (same input, another output), with up to
    ``show`` of each kind; ``before=None``: a new model, every example added."""
    old: dict[bytes, list[tuple[bytes, int]]] = {}
    old_labels, new_labels = _Labels(), _Labels()
    n_old = 0
    for n_old, (inp, out) in enumerate(before() if before else (), 1):
        old.setdefault(key(inp), []).append((key(out), n_old - 1))
        old_labels.add(out)
    unmatched: dict[bytes, list[tuple[bytes, int]]] = {}
    n_new = 0
    for n_new, (inp, out) in enumerate(after(), 1):
        k, o = key(inp), key(out)
        new_labels.add(out)
        entries = old.get(k)
        hit = next((i for i, (h, _) in enumerate(entries) if h == o), None) if entries else None
        if entries is not None and hit is not None:
            del entries[hit]
        else:
            unmatched.setdefault(k, []).append((o, n_new - 1))
    m = _match(old, unmatched)
    added, removed, changed = m.added[:show], m.removed[:show], m.changed[:show]
    new_texts = _fetch(after, {*added, *(j for _, j in changed)})
    old_texts = _fetch(before, {*removed, *(i for i, _ in changed)}) if before else {}
    return DatasetDiff(
        before=n_old,
        after=n_new,
        added=len(m.added),
        removed=len(m.removed),
        changed=len(m.changed),
        added_samples=tuple(_sample(new_texts[j]) for j in added),
        removed_samples=tuple(_sample(old_texts[i]) for i in removed),
        changed_samples=tuple(_sample(new_texts[j], old_texts[i][1]) for i, j in changed),
        labels_before=_dict(labels_of(old_labels.counts, n_old, task)) if before else None,
        labels_after=_dict(labels_of(new_labels.counts, n_new, task)),
    )


def _match(
    old: dict[bytes, list[tuple[bytes, int]]], unmatched: dict[bytes, list[tuple[bytes, int]]]
) -> _Matched:
    """Pair what is left on both sides under the same input: those changed their output."""
    m = _Matched()
    for k, news in unmatched.items():
        olds = old.get(k) or []
        paired = min(len(olds), len(news))
        m.changed += [(olds[i][1], news[i][1]) for i in range(paired)]
        m.added += [j for _, j in news[paired:]]
        if k in old:
            old[k] = olds[paired:]
    m.removed = sorted(i for entries in old.values() for _, i in entries)
    m.added.sort()
    m.changed.sort(key=lambda ij: ij[1])
    return m


def _fetch(pairs: Pairs | None, wanted: set[int]) -> dict[int, tuple[str, str]]:
    """The pairs at the positions ``wanted``; reads no further than the last of them."""
    out: dict[int, tuple[str, str]] = {}
    if not wanted or pairs is None:
        return out
    last = max(wanted)
    for i, pair in _numbered(pairs()):
        if i in wanted:
            out[i] = pair
        if i >= last:
            break
    return out


def _numbered(pairs: Iterable[tuple[str, str]]) -> Iterator[tuple[int, tuple[str, str]]]:
    return enumerate(pairs)


def _sample(pair: tuple[str, str], before: str | None = None) -> Sample:
    return Sample(shorten(pair[0]), shorten(pair[1]), None if before is None else shorten(before))


def _dict(counts: Counter[str] | None) -> dict[str, int] | None:
    return None if counts is None else dict(sorted(counts.items()))
