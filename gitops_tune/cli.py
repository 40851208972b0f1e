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
    """Maps expected failures to one line on stderr and exit 1; tracebacks only with --debug."""

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
                click.echo(
                    f"error: {diagnostic}" if diagnostic.location is None else str(diagnostic),
                    err=True,
                )
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


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


@main.command()
@paths_argument
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
def validate(paths: tuple[str, ...], fmt: str, strict: bool) -> int:
    """Check manifests and datasets without talking to any API.

    PATHS are files or directories (searched recursively for *.yaml/*.yml); default ".".

    \b
    Example:
      gitops-tune validate examples/ --strict
    """
    from gitops_tune.commands import validate as command

    return command.run(paths or (".",), fmt=fmt, strict=strict)


@main.command()
def schema() -> int:
    """Print the JSON Schema of manifest documents (TunedModel or Workspace).

    \b
    Example:
      gitops-tune schema > schemas/tuning.schema.json
    """
    from gitops_tune.commands import schema as command

    return command.run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free).")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite file; in memory if absent.")
@click.option("--train-seconds", default=30.0, show_default=True, type=float)
@click.option("--latency-ms", default=0, show_default=True, type=int)
@click.option("--fault-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--fault-codes", default="429,503", show_default=True)
@click.option(
    "--fault-mode",
    type=click.Choice(["before", "after", "both"]),
    default="before",
    show_default=True,
)
@click.option("--base-model", "base_models", multiple=True, help="Extra tunable base model.")
def emulator(**options: Any) -> int:
    """Run the emulator of the Gemini tuned-model REST API (v1beta) until interrupted.

    \b
    Example:
      gitops-tune emulator --port 8765 --train-seconds 5 &
      GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8765 GEMINI_API_KEY=x gitops-tune plan
    """
    from gitops_tune.commands import emulator as command

    return command.run(**options)
