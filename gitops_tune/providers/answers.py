"""What the providers make of REST answers, whatever the SDK: a missing resource that is an
answer, not a failure (`or_none`), and every item of a paged listing (`paged`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TypeVar

from gitops_tune.providers.base import ProviderError

T = TypeVar("T")
GONE = frozenset({404})
#: Gone, or refused as invalid (e.g. an unknown base model name, an operation already finished).
GONE_OR_INVALID = frozenset({400, 404})


def or_none(call: Callable[[], T], statuses: Collection[int] = GONE) -> T | None:
    """``call()``, or None when the backend answers one of ``statuses`` (by default 404: it
    is gone, which for a get, a cancel or a delete is an answer, not a failure)."""
    try:
        return call()
    except ProviderError as e:
        if e.status in statuses:
            return None
        raise


def paged(fetch: Callable[[str], tuple[Iterable[T], str]]) -> Iterator[T]:
    """Every item of a paged listing; ``fetch(page token)`` -> (items, next token or "")."""
    token = ""
    while True:
        items, token = fetch(token)
        yield from items
        if not token:
            return
