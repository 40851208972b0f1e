""" "Did you mean" hints, shared by the manifest checks and the dataset row checks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely meant (same letters ignoring case, ``_`` and ``-``,
    else the closest by `difflib`), for "did you mean" hints."""

    def norm(s: str) -> str:
        return s.replace("_", "").replace("-", "").lower()

    options = list(candidates)
    for c in options:
        if norm(c) == norm(word):
            return c
    lowered = {c.lower(): c for c in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None
