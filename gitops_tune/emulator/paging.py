"""List paging shared by the Gemini API and Vertex AI dialects: page sizes and page tokens.

A page token is opaque to callers: unpadded base64url of a small JSON object holding the
position the next page starts after and the filter the token was issued for, so a token
replayed with another filter is refused. (Cloud Storage pages differently, see `gcs`.)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gitops_tune.emulator.api import invalid

T = TypeVar("T")


@dataclass(frozen=True)
class Paging:
    """One list method's paging rules: its default and largest page, its token's position
    key and the wording of its page-size errors (``{raw!r}`` / ``{size}`` are filled in)."""

    default: int
    maximum: int
    token_key: str = "after"
    not_integer: str = "pageSize must be an integer, got {raw!r}."
    negative: str = "pageSize must not be negative, got {size}."

    def size(self, raw: str | None) -> int:
        """``pageSize``: absent, empty or 0 means the default; larger than the maximum is
        cut to the maximum."""
        if raw is None or raw == "":
            return self.default
        try:
            size = int(raw)
        except ValueError:
            raise invalid(self.not_integer.format(raw=raw)) from None
        if size < 0:
            raise invalid(self.negative.format(size=size))
        return min(size or self.default, self.maximum)

    def encode(self, position: str, query: str) -> str:
        raw = json.dumps({self.token_key: position, "q": query}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, token: str, query: str) -> str:
        """The position in ``token``; refused when malformed or issued for another filter."""
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            position, q = data[self.token_key], data["q"]
            if not isinstance(position, str) or not isinstance(q, str):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise invalid(f"Invalid page token {token!r}.") from None
        if q != query:
            raise invalid(
                "The page token was issued for a different filter; parameters must match."
            )
        return position

    def page(
        self,
        items: Sequence[T],
        size: int,
        field: str,
        render: Callable[[T], Any],
        position: Callable[[T], str],
        query: str,
    ) -> dict[str, Any]:
        """The answer for the first ``size`` of ``items`` (fetch one more than ``size`` so a
        next page is known to exist): ``{field: [...], "nextPageToken": ...}``, each key left
        out when empty, as proto3 JSON does."""
        out: dict[str, Any] = {}
        page = items[:size]
        if page:
            out[field] = [render(item) for item in page]
        if len(items) > size:
            out["nextPageToken"] = self.encode(position(page[-1]), query)
        return out
