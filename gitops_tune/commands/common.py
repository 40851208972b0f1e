"""What the engine commands share: load desired state, open the provider, observe, plan."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import click

from gitops_tune.apply import RetryPolicy, with_retries
from gitops_tune.desired import DesiredState, load
from gitops_tune.errors import Diagnostic, UserError
from gitops_tune.plan import Plan, PlanOptions, plan
from gitops_tune.providers import open_provider
from gitops_tune.providers.base import BaseModel, Provider, ProviderError, RemoteModel
from gitops_tune.settings import Settings, resolve


@dataclass
class Session:
    desired: DesiredState
    settings: Settings
    provider: Provider

    def observe(self) -> list[RemoteModel]:
        ws = self.settings.workspace
        try:
            return with_retries(
                lambda: self.provider.list_models(ws), "list models", RetryPolicy.from_env()
            )
        except ProviderError as e:
            raise UserError(str(e)) from None

    def plan(self, destroy: bool = False, targets: Sequence[str] = ()) -> Plan:
        options = self.plan_options(destroy, targets)
        p = plan(self.desired.models, self.observe(), options, self.provider.backend)
        check_base_models(p, self.provider)
        return p

    def plan_options(self, destroy: bool = False, targets: Sequence[str] = ()) -> PlanOptions:
        return PlanOptions(self.settings.workspace, destroy, frozenset(targets))


def open_session(paths: Sequence[str], workspace: str | None, backend: str | None) -> Session:
    desired = load(paths or (".",), backend)
    print_warnings(desired.warnings)
    settings = resolve(workspace, backend, desired.workspace)
    return Session(desired, settings, open_provider(settings))


def print_warnings(warnings: Sequence[Diagnostic]) -> None:
    for w in warnings:
        click.echo(str(w), err=True)


def check_base_models(p: Plan, provider: Provider) -> None:
    """Before a create is planned, its base model must exist and support tuning."""
    wanted: dict[str, Diagnostic] = {}
    for c in p.actionable:
        if c.action.trains and c.desired is not None:
            d = c.desired
            wanted.setdefault(d.base_model, Diagnostic("", d.location, "spec.baseModel"))
    problems = []
    retry = RetryPolicy.from_env()
    hint = f" ({provider.tuning_hint})" if provider.tuning_hint else ""
    for name, where in sorted(wanted.items()):
        try:
            info = with_retries(_getter(provider, name), f"get {name}", retry)
        except ProviderError as e:
            raise UserError(str(e)) from None
        if info is None or not info.supports_tuning:
            what = "not found" if info is None else "does not support tuning"
            problems.append(
                Diagnostic(f"base model {name} {what}{hint}", where.location, where.field)
            )
    if problems:
        raise UserError(problems)


def _getter(provider: Provider, name: str) -> Callable[[], BaseModel | None]:
    return lambda: provider.base_model(name)


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
