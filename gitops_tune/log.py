"""What the CLI says on stderr besides its result: warnings, errors and apply's events.

One switchboard for the whole process, set by the global options (``-q/--quiet``,
``--log-format text|json``, ``--no-color``), which every command also accepts:

- ``text`` (default): one human line each, as before.
- ``json``: one JSON object per line on stderr, for log collectors. Every object has ``level``
  (``info``, ``warning``, ``error``) and ``message``; diagnostics add ``file``, ``line``,
  ``column`` and ``field``; apply's events add ``event`` (``action`` or ``progress``) and
  their fields. Nothing here ever sees an API key: messages come from diagnostics and model
  state only.
- quiet: no warnings, informational lines or progress; results (stdout) and errors still print.

Stdout stays the command's result (the plan, the status table, ...) in every mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from gitops_tune.errors import Diagnostic

LOG_FORMATS = ("text", "json")


@dataclass
class LogConfig:
    quiet: bool = False
    fmt: str = "text"
    no_color: bool = False

    @property
    def json(self) -> bool:
        return self.fmt == "json"


_config = LogConfig()


def configure(
    quiet: bool | None = None, fmt: str | None = None, no_color: bool | None = None
) -> LogConfig:
    """Set what is given; ``None`` leaves a setting as it is."""
    if quiet is not None:
        _config.quiet = quiet
    if fmt is not None:
        if fmt not in LOG_FORMATS:
            raise ValueError(f"log format {fmt!r}")
        _config.fmt = fmt
    if no_color is not None:
        _config.no_color = no_color
    return _config


def reset() -> None:
    configure(quiet=False, fmt="text", no_color=False)


def config() -> LogConfig:
    return _config


def event(level: str, message: str, **fields: Any) -> None:
    """One log record on stderr: a JSON line, or ``message`` as it is."""
    if _config.json:
        record = {"level": level, "message": message, **fields}
        click.echo(json.dumps(record, ensure_ascii=False, sort_keys=False), err=True)
    else:
        click.echo(message, err=True)


def info(message: str, **fields: Any) -> None:
    if not _config.quiet:
        event("info", message, **fields)


def diagnostic(d: Diagnostic) -> None:
    """A warning (dropped when quiet) or an error (always shown)."""
    if d.severity == "warning" and _config.quiet:
        return
    if _config.json:
        fields = d.to_json()
        del fields["severity"], fields["message"]
        event(d.severity, d.message, **fields)
    elif d.severity == "error" and d.location is None:
        event("error", f"error: {d}")
    else:
        event(d.severity, str(d))


def error(message: str) -> None:
    """An error that is not a diagnostic (a usage error, an interruption, a bug)."""
    event("error", message)
