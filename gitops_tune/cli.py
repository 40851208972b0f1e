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
      gitops-tune validate examples/
      gitops-tune validate --format json --strict manifests/
    """
    from gitops_tune.commands import validate as command

    return command.run(paths or (".",), fmt=fmt, strict=strict)


@main.command()
@click.option("--plan", is_flag=True, help="The schema of `plan --format json` instead.")
def schema(plan: bool) -> int:
    """Print the JSON Schema of manifest documents (TunedModel or Workspace).

    \b
    Examples:
      gitops-tune schema > schemas/tuning.schema.json
      gitops-tune schema --plan > schemas/plan.schema.json
    """
    from gitops_tune.commands import schema as command

    return command.run(plan=plan)


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


def engine_options(f: Any) -> Any:
    """Options every command that talks to a backend accepts."""
    f = click.option(
        "--workspace",
        help="Ownership scope [env GITOPS_TUNE_WORKSPACE; Workspace document; default 'default'].",
    )(f)
    f = click.option(
        "--backend",
        type=click.Choice(["gemini", "local", "vertex"]),
        help="Where models live [env GITOPS_TUNE_BACKEND; Workspace document; default gemini].",
    )(f)
    return f


no_color_option = click.option(
    "--no-color", is_flag=True, help="Plain output (also with NO_COLOR set or without a terminal)."
)
target_option = click.option(
    "--target", "targets", multiple=True, metavar="NAME", help="Limit to these models."
)


@main.command()
@paths_argument
@engine_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan for `apply --plan`.")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 no changes, 1 error, 2 changes present."
)
@target_option
@click.option("--destroy", is_flag=True, help="Plan the deletion of every managed model.")
@no_color_option
def plan(paths: tuple[str, ...], **options: Any) -> int:
    """Show what apply would change: create, update, replace, cancel, delete.

    \b
    Examples:
      gitops-tune plan examples/
      gitops-tune plan --format markdown --detailed-exitcode > plan.md
      gitops-tune plan --out tfplan.json && gitops-tune apply --plan tfplan.json
    """
    from gitops_tune.commands import plan as command

    return command.run(paths, **options)


@main.command()
@paths_argument
@engine_options
@click.option("--plan", "saved", type=click.Path(dir_okay=False), help="Apply a saved plan.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--wait", is_flag=True, help="Wait for training, then retire superseded models.")
@click.option("--timeout", metavar="DURATION", help="Give up waiting after e.g. 30m, 1h30m.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 256))
@target_option
@no_color_option
def apply(paths: tuple[str, ...], **options: Any) -> int:
    """Make the remote models match the manifests.

    Asks for `yes` on a terminal; in pipelines pass --auto-approve or a reviewed --plan FILE.

    \b
    Examples:
      gitops-tune apply --wait examples/
      gitops-tune apply --auto-approve --parallelism 4
      gitops-tune apply --plan tfplan.json
    """
    from gitops_tune.commands import apply as command

    return command.run(paths, **options)


@main.command()
@paths_argument
@engine_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@target_option
@no_color_option
def destroy(paths: tuple[str, ...], **options: Any) -> int:
    """Delete every model the workspace manages (the plan of `plan --destroy`, applied).

    \b
    Example:
      gitops-tune destroy --auto-approve examples/
    """
    from gitops_tune.commands import apply as command

    return command.run(paths, destroy=True, **options)


@main.command()
@paths_argument
@engine_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def status(paths: tuple[str, ...], **options: Any) -> int:
    """List the workspace's models: state, training progress, last loss.

    \b
    Example:
      gitops-tune status examples/
    """
    from gitops_tune.commands import status as command

    return command.run(paths, **options)


@main.command()
@paths_argument
@engine_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def output(paths: tuple[str, ...], **options: Any) -> int:
    """For each model: the tuned model to call, its state and the preamble to prepend.

    \b
    Example:
      gitops-tune output --format json examples/ > models.json
    """
    from gitops_tune.commands import output as command

    return command.run(paths, **options)


@main.command(name="import")
@click.argument("name")
@click.argument("tuned_model")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@engine_options
def import_(name: str, tuned_model: str, paths: tuple[str, ...], **options: Any) -> int:
    """Adopt an existing unmanaged TUNED_MODEL for the manifest NAME (writes the marker).

    \b
    Example:
      gitops-tune import next-number tunedModels/my-old-model examples/
    """
    from gitops_tune.commands import import_ as command

    return command.run(paths, name, tuned_model, **options)
