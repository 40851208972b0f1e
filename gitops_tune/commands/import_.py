"""`gitops-tune import NAME TUNED_MODEL`: adopt an unmanaged model for a manifest."""

from __future__ import annotations

from collections.abc import Sequence

import click

from gitops_tune.commands.session import open_session
from gitops_tune.errors import UserError
from gitops_tune.providers.base import Owner, ProviderError
from gitops_tune.providers.retry import with_retries
from gitops_tune.settings import Invocation


def run(
    paths: Sequence[str], name: str, model: str, *, workspace: str | None, backend: str | None
) -> int:
    session = open_session(paths, Invocation.from_environ(workspace, backend))
    d = next((m for m in session.desired.models if m.name == name), None)
    if d is None:
        raise UserError(f"import {name}: no manifest declares metadata.name {name!r}")
    provider, ws = session.provider, session.settings.workspace
    retry = session.settings.retry
    try:
        remote = with_retries(lambda: provider.get(model), f"get {model}", retry)
        if remote is None:
            raise UserError(f"import {name}: {model} not found")
        if remote.owner is not None:
            if remote.owner.workspace == ws and remote.owner.name == name:
                click.echo(f"{remote.id} is already managed as {name}; nothing to do.")
                return 0
            raise UserError(
                f"import {name}: {remote.id} is managed by workspace {remote.owner.workspace!r}"
                f" as {remote.owner.name!r}; refusing to take it over"
            )
        if "[gitops-tune " in remote.description:
            # A marker that does not parse: edited by hand or tampered with. Whose model it is
            # cannot be told, so it is not taken over (fix or remove the marker first).
            raise UserError(
                f"import {name}: {remote.id} carries a damaged gitops-tune ownership marker in "
                "its description; refusing to take it over (fix or remove the marker first)"
            )
        others = [m for m in session.observe() if m.owner and m.owner.name == name]
        if others:
            raise UserError(
                f"import {name}: the workspace already has {others[0].id} for {name}; "
                "destroy it or import under another name"
            )
        owner = Owner(ws, name, d.fingerprint, d.prevent_destroy)
        with_retries(
            lambda: provider.update(remote.id, remote.display_name, remote.description, owner),
            f"update {remote.id}",
            retry,
        )
    except ProviderError as e:
        raise UserError(str(e)) from None
    click.echo(
        f"Imported {remote.id} as {name} in workspace {ws!r}. Run `gitops-tune plan` to see how "
        "it differs from the manifest (baseModel and hyperparameters are compared; the training "
        "data cannot be read back, so it is taken on trust)."
    )
    return 0
