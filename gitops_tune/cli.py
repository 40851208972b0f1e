"""The `gitops-tune` command line: thin click wiring around one module per command.

Each command lives in ``gitops_tune/commands/`` as a plain ``run(...) -> int`` function. This
module only parses arguments, imports the command lazily (``validate`` and ``schema`` must
never pay for google-genai), and turns expected failures into one clean line and exit 1.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from gitops_tune import __version__
from gitops_tune.errors import UserError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class _Group(click.Group):
    """Maps every expected failure to one line on stderr and exit 1; tracebacks only with --debug."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        debug = "--debug" in sys.argv[1:] or os.environ.get("GITOPS_TUNE_DEBUG") == "1"
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_ERROR)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(EXIT_ERROR)
        except UserError as e:
            for diagnostic in e.diagnostics:
                click.echo(f"error: {diagnostic}" if diagnostic.location is None else str(diagnostic), err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except Exception as e:  # a bug: say so in one line unless asked for the traceback
            if debug:
                raise
            click.echo(
                f"internal error: {type(e).__name__}: {e} (run with --debug for a traceback)",
                err=True,
            )
            sys.exit(EXIT_ERROR)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gitops-tune")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def main(debug: bool) -> None:
    """Declare fine-tuned Gemini models in Git; plan and apply them like Terraform.

    \b
    Quick start:
      gitops-tune validate examples/
      gitops-tune apply --wait examples/
    """
