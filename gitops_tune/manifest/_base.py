"""What every manifest model shares: strict, no unknown fields, titles by field name; the
rule for model and workspace names."""

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

NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$"
NAME_RULE = "1-30 lowercase letters, digits and '-', starting with a letter and not ending with '-'"
