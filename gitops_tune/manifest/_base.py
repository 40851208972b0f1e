"""What every manifest model shares: strict, no unknown fields, titles by field name."""

from __future__ import annotations

from pydantic import ConfigDict


def _field_title(name: str, _info: object) -> str:
    return name


CONFIG = ConfigDict(
    extra="forbid",
    strict=True,
    allow_inf_nan=False,
    defer_build=True,
    field_title_generator=_field_title,
)
