"""The `gitops-tune` command line: thin click wiring around one module per command.

Each command lives in ``gitops_tune/commands/`` as a plain ``run(...) -> int`` function. This
module only parses arguments, imports the command lazily (``validate`` and ``schema`` must
never pay for google-genai), and turns expected failures into one clean line and exit 1.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import replace
from typing import Any

import click

from gitops_tune import __version__, backends, log
from gitops_tune.errors import UserError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class _Group(click.Group):
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gitops-tune")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@functools.partial(log_options, envvar=True)
def main(debug: bool) -> None:
    """Declare fine-tuned Gemini models in Git; plan and apply them like Terraform.

    Global options (-q, --log-format, --no-color) are also accepted after the command.

    \b
    Examples:
      gitops-tune validate examples/
      gitops-tune apply --wait examples/
      gitops-tune --log-format json apply --auto-approve manifests/
    """


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


@main.command()
@paths_argument
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@log_options
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
@log_options
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
@click.option(
    "--catalog",
    default="documented",
    show_default=True,
    metavar="documented|current|FILE",
    help="Base models: the tuning docs' (documented), what Google serves now (current), a file.",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY[=PROJECT]",
    help="Accept only these API keys, each its own project (default: any key, one project).",
)
@click.option(
    "--record",
    "record_dir",
    type=click.Path(file_okay=False),
    help="Record every API exchange as JSON lines in this folder (for the conformance suite).",
)
@click.option(
    "--dialect",
    type=click.Choice([*backends.DIALECTS, "both"]),
    default=backends.DEFAULT_DIALECT,
    show_default=True,
    help="Which API to set up and print the environment for (both are always served).",
)
@click.option(
    "--bucket",
    default="gitops-tune-staging",
    show_default=True,
    help="Vertex AI staging bucket to create.",
)
@click.option(
    "--project", default="emulator", show_default=True, help="Vertex AI project to print."
)
@click.option(
    "--location", default="us-central1", show_default=True, help="Vertex AI location to print."
)
@click.option(
    "--operation-seconds",
    default=2.0,
    show_default=True,
    type=float,
    help="How long Vertex AI long-running operations (deletes, undeploys) take.",
)
@click.option(
    "--refuse-model-delete", is_flag=True, help="Vertex AI refuses to delete tuned models."
)
@log_options
def emulator(**options: Any) -> int:
    """Run the emulator until interrupted: the Gemini API tuned-model REST API (v1beta) and
    Vertex AI tuning jobs, tuned models and endpoints (v1beta1, v1) with Cloud Storage.

    The first line printed is the base URL. With --dialect vertex (or both), the staging bucket
    is created, a credentials file with a fixed token is written (the emulator accepts any
    bearer token) and the lines to export follow.

    \b
    Examples:
      gitops-tune emulator --port 8765 --train-seconds 5 &
      GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8765 GEMINI_API_KEY=x gitops-tune plan
    \b
      gitops-tune emulator --dialect vertex > emulator.env &
      sleep 1; eval "$(grep ^export emulator.env)"; gitops-tune plan --backend vertex
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
@click.option(
    "--base",
    metavar="REF",
    help="Also compare each model with its manifests and data at this git REF (the pull "
    "request's base): examples added, removed, changed; read from the local repository.",
)
@click.option(
    "--show-examples",
    default=3,
    show_default=True,
    type=click.IntRange(0, 100),
    metavar="N",
    help="With --base: show up to N examples of each kind of change.",
)
@click.option(
    "--prices",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Your price table for the training cost [env GITOPS_TUNE_PRICES; else the "
    "Workspace's spec.review.prices; else the package's].",
)
@click.option(
    "--count-tokens",
    is_flag=True,
    help="Count the training tokens with the backend's countTokens (batched requests) "
    "instead of estimating them at about four characters a token.",
)
@no_color_option
@functools.partial(log_options, color=False)
def plan(paths: tuple[str, ...], **options: Any) -> int:
    """Show what apply would change: create, update, replace, cancel, delete.

    Models that train also get their data-quality findings and training cost; with --base,
    what changed in their data since REF.

    \b
    Examples:
      gitops-tune plan examples/
      gitops-tune plan --format markdown --detailed-exitcode > plan.md
      gitops-tune plan --base origin/main --format markdown > plan.md
      gitops-tune plan --count-tokens --prices my-prices.yaml
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
@functools.partial(log_options, color=False)
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
@functools.partial(log_options, color=False)
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
@click.option(
    "--loss",
    "loss_of",
    metavar="NAME",
    help="Draw NAME's loss per epoch and the epochCount it recommends (NAME: a manifest name "
    "for its current model, or a tuned model ID).",
)
@click.option(
    "--png",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="With --loss: also write the curve as a PNG (needs the [plot] extra: matplotlib).",
)
@log_options
def status(paths: tuple[str, ...], **options: Any) -> int:
    """List the workspace's models: state, role, training progress, last loss.

    Roles: current, retained (kept by lifecycle.retainPrevious for a rollback), superseded
    (deleted once its replacement is ACTIVE) and removed (its manifest is gone).

    \b
    Examples:
      gitops-tune status examples/
      gitops-tune status --loss next-number examples/
      gitops-tune status --loss next-number --png loss.png examples/
    """
    from gitops_tune.commands import status as command

    return command.run(paths, **options)


@main.command()
@paths_argument
@engine_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@log_options
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
@log_options
def import_(name: str, tuned_model: str, paths: tuple[str, ...], **options: Any) -> int:
    """Adopt an existing unmanaged TUNED_MODEL for the manifest NAME (writes the marker).

    \b
    Example:
      gitops-tune import next-number tunedModels/my-old-model examples/
    """
    from gitops_tune.commands import import_ as command

    return command.run(paths, name, tuned_model, **options)
