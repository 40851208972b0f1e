"""``gitops-tune emulator``: its many options live apart from the engine commands."""

from __future__ import annotations

from typing import Any

import click

from gitops_tune import backends
from gitops_tune.cli.options import log_options


@click.command()
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
@click.option(
    "--degrade-model",
    "degrade_models",
    multiple=True,
    metavar="NAME|all[@EPOCH]",
    help="This tuned model (ID or display name; all: every one) answers wrongly, "
    "so an evaluation gate rejects it. NAME@EPOCH (Vertex AI): only its checkpoint of that "
    "epoch answers wrongly.",
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
