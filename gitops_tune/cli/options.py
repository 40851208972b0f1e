"""What the commands of the command line share: the group that maps expected failures to one
line and exit 1, the global log options, and the options of the engine commands."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import Any

import click

from gitops_tune import backends, log
from gitops_tune.errors import UserError

EXIT_OK = 0
EXIT_ERROR = 1


class Group(click.Group):
    """Maps expected failures to one line on stderr and exit 1; tracebacks only with --debug."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        debug = "--debug" in sys.argv[1:] or os.environ.get("GITOPS_TUNE_DEBUG") == "1"
        log.reset()  # one process may run several commands (tests)
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            log.error("Aborted.")
            sys.exit(EXIT_ERROR)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.ClickException as e:
            if log.config().json:
                log.error(f"error: {e.format_message()}")
            else:
                e.show()
            sys.exit(EXIT_ERROR)
        except UserError as e:
            for diagnostic in e.diagnostics:
                log.diagnostic(replace(diagnostic, severity="error"))
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            log.error("Interrupted.")
            sys.exit(130)
        except Exception as e:  # a bug: say so in one line unless asked for the traceback
            if debug:
                raise
            log.error(f"internal error: {type(e).__name__}: {e} (run with --debug for a traceback)")
            sys.exit(EXIT_ERROR)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        log.configure(quiet=True)


def _set_log_format(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        log.configure(fmt=value)


def _set_no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        log.configure(no_color=True)


def log_options(f: Any, *, color: bool = True, envvar: bool = False) -> Any:
    """-q/--quiet, --log-format and --no-color: accepted by the group and by every command
    (``gitops-tune -q apply`` and ``gitops-tune apply -q`` mean the same). See gitops_tune.log."""
    f = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_set_quiet,
        help="Only results and errors: no warnings, progress or hints.",
    )(f)
    f = click.option(
        "--log-format",
        type=click.Choice(log.LOG_FORMATS),
        expose_value=False,
        callback=_set_log_format,
        envvar="GITOPS_TUNE_LOG_FORMAT" if envvar else None,
        help="Warnings, errors and apply events on stderr as text or JSON lines"
        + (" [env GITOPS_TUNE_LOG_FORMAT; default text]." if envvar else "."),
    )(f)
    if color:
        f = click.option(
            "--no-color",
            is_flag=True,
            expose_value=False,
            callback=_set_no_color,
            help="Plain output (also with NO_COLOR set or without a terminal).",
        )(f)
    return f


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


def engine_options(f: Any) -> Any:
    """Options every command that talks to a backend accepts."""
    f = click.option(
        "--workspace",
        help="Ownership scope [env GITOPS_TUNE_WORKSPACE; Workspace document; default 'default'].",
    )(f)
    f = click.option(
        "--backend",
        type=click.Choice(backends.NAMES),
        help="Where models live: gemini (the Gemini API), vertex (Vertex AI, also called Gemini "
        "Enterprise Agent Platform) or local (the emulator) [env GITOPS_TUNE_BACKEND; Workspace "
        "document; default gemini].",
    )(f)
    return f


no_color_option = click.option(
    "--no-color", is_flag=True, help="Plain output (also with NO_COLOR set or without a terminal)."
)
target_option = click.option(
    "--target", "targets", multiple=True, metavar="NAME", help="Limit to these models."
)
