"""`gitops-tune plan`: show what apply would change."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import click

from gitops_tune import log, render, review
from gitops_tune.commands.early import EarlyList
from gitops_tune.commands.session import Session, open_session, use_color
from gitops_tune.errors import Diagnostic
from gitops_tune.plan import saved as plan_file
from gitops_tune.review.tokens import BackendCounter
from gitops_tune.settings import Invocation

EXIT_CHANGES = 2


def run(
    paths: Sequence[str],
    *,
    workspace: str | None,
    backend: str | None,
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    targets: Sequence[str],
    destroy: bool,
    no_color: bool,
    base: str | None = None,
    show_examples: int = 3,
    prices: str | None = None,
    count_tokens: bool = False,
    early: EarlyList | None = None,
) -> int:
    invocation = Invocation.from_environ(workspace, backend)
    if prices or invocation.prices:
        review.load_prices(prices or invocation.prices)  # bad: fails before any remote call
    tree = review.GitTree.open(base, paths or (".",)) if base is not None else None
    try:
        session = open_session(paths, invocation, early=early)
        if not prices:  # GITOPS_TUNE_PRICES, else the Workspace's spec.review.prices
            prices = session.settings.prices
            review.load_prices(prices, session.settings.prices_from)
        p = session.plan(destroy=destroy, targets=targets)
        counter = _counter(session) if count_tokens else None
        found = review.build(
            p,
            session.desired,
            paths=paths or (".",),
            base=tree,
            show=show_examples,
            prices=prices,
            counter=counter,
        )
        if counter is not None:
            _report(counter)
    finally:
        if tree is not None:
            tree.close()
    p = dataclasses.replace(p, review=found)
    click.echo(render.render(p, fmt, color=use_color(no_color)), nl=False)
    if out:
        plan_file.write(out, p, tuple(paths))
        if fmt == "text":
            click.echo(
                f"\nSaved the plan to {out}: apply it with `gitops-tune apply --plan {out}`."
            )
    return EXIT_CHANGES if detailed_exitcode and p.has_changes else 0


def _counter(session: Session) -> BackendCounter:
    """Training tokens counted by the session's backend (``countTokens``), batched."""
    return BackendCounter(session.provider.count_tokens, session.settings.retry)


def _report(counter: BackendCounter) -> None:
    for name, why in sorted(counter.problems.items()):
        log.diagnostic(
            Diagnostic(
                f"{name}: the backend could not count its tokens ({why}); they are estimated",
                severity="warning",
            )
        )
