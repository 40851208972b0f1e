"""The `gitops-tune` command line: thin click wiring around one module per command.

Each command lives in ``gitops_tune/commands/`` as a plain ``run(...) -> int`` function. The
click commands here only parse arguments and import the command lazily (``validate`` and
``schema`` must never pay for google-genai); `options` holds what several commands share and
the group that turns expected failures into one clean line and exit 1.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import click

from gitops_tune import __version__
from gitops_tune.cli.emulator import emulator
from gitops_tune.cli.options import (
    Group,
    engine_options,
    log_options,
    no_color_option,
    paths_argument,
    target_option,
)

if TYPE_CHECKING:
    from gitops_tune.commands.early import EarlyList


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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


main.add_command(emulator)


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
    early = _early_list(options)
    from gitops_tune.commands import plan as command

    return command.run(paths, early=early, **options)


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
    early = _early_list(options)
    from gitops_tune.commands import apply as command

    return command.run(paths, early=early, **options)


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


def _early_list(options: dict[str, Any]) -> EarlyList | None:
    """The plan's list request, started before the engine is imported and the manifests read
    (`gitops_tune.commands.early`); None where flags and environment do not settle it."""
    from gitops_tune.commands.early import EarlyList
    from gitops_tune.settings import Invocation

    return EarlyList.start(Invocation.from_environ(options["workspace"], options["backend"]))
