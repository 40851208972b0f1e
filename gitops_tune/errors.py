"""Diagnostics and the expected-failure exception.

Every user mistake becomes a `Diagnostic` with a location and a field path, printed as
one line: ``file:line:col: field.path: message``. `UserError` carries one or more of them to
the single error handler in `cli`, which prints them and exits 1 without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file; ``line``/``col`` are 1-based, ``None`` when unknown."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclass(frozen=True)
class Diagnostic:
    message: str
    location: Location | None = None
    field: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location is not None else ""
        field_part = f"{self.field}: " if self.field else ""
        label = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{label}{field_part}{self.message}"

    def to_json(self) -> dict[str, object]:
        loc = self.location
        return {
            "severity": self.severity,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.col if loc else None,
            "field": self.field,
            "message": self.message,
        }


class UserError(Exception):
    """An expected failure caused by input or remote state: printed, never a traceback."""

    def __init__(self, problems: str | Diagnostic | Iterable[Diagnostic]) -> None:
        if isinstance(problems, str):
            self.diagnostics = [Diagnostic(problems)]
        elif isinstance(problems, Diagnostic):
            self.diagnostics = [problems]
        else:
            self.diagnostics = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)
