"""`gitops-tune apply` and `gitops-tune destroy`: make the remote side match the plan."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import click

from gitops_tune import log, render
from gitops_tune.apply import Applier, ApplyOptions
from gitops_tune.commands.early import EarlyList
from gitops_tune.commands.session import open_session, print_notices, reporter, use_color
from gitops_tune.errors import UserError
from gitops_tune.plan import Action, Plan
from gitops_tune.plan import saved as plan_file
from gitops_tune.settings import Invocation

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``1h30m`` -> seconds."""
    m = _DURATION.match(text.strip())
    if not text.strip() or m is None or not any(m.groups()):
        raise UserError(f"--timeout {text!r}: expected a duration like 90s, 15m or 1h30m")
    hours, minutes, seconds = m.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def run(
    paths: Sequence[str],
    *,
    workspace: str | None,
    backend: str | None,
    saved: str | None = None,
    auto_approve: bool = False,
    wait: bool = False,
    timeout: str | None = None,
    parallelism: int = 10,
    targets: Sequence[str] = (),
    destroy: bool = False,
    no_color: bool = False,
    early: EarlyList | None = None,
) -> int:
    timeout_s = parse_duration(timeout) if timeout else None
    stored = plan_file.read(saved) if saved else None
    invocation = Invocation.from_environ(workspace, backend)
    if stored is not None:
        paths = paths or stored.paths
        invocation = invocation.or_else(stored.workspace, stored.backend)
        targets, destroy = targets or stored.targets, stored.destroy
    session = open_session(paths, invocation, early=early)
    p = session.plan(destroy=destroy, targets=targets)
    if stored is not None:
        stored.check_still_valid(p)
    asks = p.has_changes and stored is None and not auto_approve
    if not log.config().quiet or asks:  # never ask for approval of a plan not shown
        click.echo(render.text(p, color=use_color(no_color)), nl=False)
    awaiting = wait and any(c.action is Action.IN_PROGRESS for c in p.changes)
    rejected = [f"{c.name}: {c.reasons[0]}" for c in p.changes if c.action is Action.REJECTED]
    if not p.has_changes and not awaiting:
        if log.config().quiet:
            click.echo(render.summary_line(p))
        if rejected:  # nothing to do, but the manifest's model does not serve
            raise UserError("\n".join(["rejected by their evaluation:", *rejected]))
        return 0
    if asks:
        _confirm(destroy)

    applier = Applier(
        session.provider,
        session.desired.models,
        ApplyOptions(
            parallelism=parallelism,
            wait=wait,
            timeout_s=timeout_s,
            poll_s=session.settings.poll_s,
            retry=session.settings.retry,
        ),
        reporter(),
        session.plan_options(destroy, targets),
    )
    result = applier.run(p)
    print_notices(session.provider)
    told = {r.split(":", 1)[0] for r in result.rejected}
    result.rejected += [r for r in rejected if r.split(":", 1)[0] not in told]
    result.raise_if_failed()
    _done(p, len(result.done), destroy=destroy, wait=wait, deferred=result.deferred)
    return 0


def _done(p: Plan, made: int, *, destroy: bool, wait: bool, deferred: list[str]) -> None:
    verb = "Destroy" if destroy else "Apply"
    gap = "" if log.config().quiet else "\n"
    click.echo(f"{gap}{verb} complete: {made} change(s) made.")
    if deferred:
        click.echo("Deferred until their parent is ready (apply again, or apply --wait):")
        click.echo("\n".join(f"  {d}" for d in deferred))
    trains = any(c.action.trains for c in p.changes)
    if p.has_changes and not wait and trains and not log.config().quiet:
        click.echo(
            "Training runs remotely; superseded models are retired once their replacement is "
            "ACTIVE (`gitops-tune apply --wait` waits and retires them)."
        )


def _confirm(destroy: bool) -> None:
    """Ask for ``yes``: on a terminal with a prompt; otherwise, as Terraform does, read one
    line from standard input (``echo yes | gitops-tune apply``)."""
    what = "destroy these models" if destroy else "perform these actions"
    question = f"\nDo you want to {what}? Only 'yes' will be accepted"
    if sys.stdin.isatty():
        answer = click.prompt(question, default="", show_default=False)
    else:
        click.echo(f"{question}: ", nl=False)
        answer = sys.stdin.readline()
        click.echo(answer.strip())
        if not answer:
            raise UserError(
                "apply needs approval: no terminal to ask on and no answer on standard input; "
                "pipe `yes` (echo yes | gitops-tune apply), pass --auto-approve (pipelines) or "
                "apply a reviewed plan with --plan FILE"
            )
    if answer.strip() != "yes":
        raise UserError("apply cancelled: nothing was changed")
