"""What the engine commands share: load desired state, open the provider, observe, plan."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gitops_tune import log
from gitops_tune.apply import Reporter
from gitops_tune.commands.early import EarlyList
from gitops_tune.commands.listing import listed
from gitops_tune.desired import DesiredState, load
from gitops_tune.errors import Diagnostic, UserError
from gitops_tune.plan import Plan, PlanOptions, plan
from gitops_tune.providers import RemoteHashes, open_provider
from gitops_tune.providers.base import BaseModel, Provider, ProviderError, RemoteModel
from gitops_tune.providers.retry import RetryPolicy, with_retries
from gitops_tune.render.progress import JsonReporter, TerminalReporter
from gitops_tune.settings import Invocation, Settings


@dataclass
class Session:
    desired: DesiredState
    provider: Provider
    early: EarlyList | None = None  # a list request already under way (see `EarlyList`)

    @property
    def settings(self) -> Settings:
        return self.desired.settings

    def observe(self) -> list[RemoteModel]:
        early, self.early = self.early, None
        try:
            found = (
                early.result(self.settings, self.provider)
                if early is not None
                else listed(self.settings, self.provider)
            )
        except ProviderError as e:
            raise UserError(str(e)) from None
        print_notices(self.provider)
        return found

    def plan(self, destroy: bool = False, targets: Sequence[str] = ()) -> Plan:
        options = self.plan_options(destroy, targets)
        p = plan(self.desired.models, self.observe(), options, self.settings.backend.name)
        check_base_models(p, self.provider, self.settings.retry)
        return replace(p, migration=self.provider.migration())

    def plan_options(self, destroy: bool = False, targets: Sequence[str] = ()) -> PlanOptions:
        return PlanOptions(
            self.settings.workspace,
            destroy,
            frozenset(targets),
            stop_training=self.settings.backend.api.cancel,
        )


def open_session(
    paths: Sequence[str], invocation: Invocation, *, early: EarlyList | None = None
) -> Session:
    """Load the manifests and open the backend. ``early``: the plan's list request, already
    under way (`gitops_tune.commands.early`); used when the settings it was started with are
    the ones the manifests settle."""
    storage = RemoteHashes()
    try:
        desired = load(
            paths or (".",),
            invocation,
            remote_hashes=storage,
            remote_objects=storage.objects,
            remote_read=storage.read,
        )
    except BaseException:
        if early is not None:
            early.cancel()  # bad manifests: no list is wanted
        raise
    print_warnings(desired.warnings)
    settings = desired.settings
    if early is not None and not early.serves(settings):
        early.cancel()
        early = None
    return Session(desired, open_provider(settings), early)


def print_notices(provider: Provider) -> None:
    """What a provider had to say about the run (e.g. a refused delete), each line once."""
    notices: list[str] = getattr(provider, "notices", [])
    for n in dict.fromkeys(notices):
        log.info(f"note: {n}")
    notices.clear()


def print_warnings(warnings: Sequence[Diagnostic]) -> None:
    for w in warnings:
        log.diagnostic(w)


def check_base_models(p: Plan, provider: Provider, retry: RetryPolicy) -> None:
    """Before a create is planned, its base model must exist and support tuning (for a
    method other than supervised tuning, `desired.methods` has judged the model already)."""
    wanted: dict[str, Diagnostic] = {}
    by_method: set[str] = set()
    for c in p.actionable:
        if c.action.trains and c.desired is not None:
            d = c.desired
            wanted.setdefault(d.base_model, Diagnostic("", d.location, "spec.baseModel"))
            by_method |= {d.base_model} if d.options.method else set()
    problems = []
    hint = f" ({provider.tuning_hint})" if provider.tuning_hint else ""
    for name, where in sorted(wanted.items()):
        try:
            info = with_retries(_getter(provider, name), f"get {name}", retry)
        except ProviderError as e:
            raise UserError(str(e)) from None
        if info is None or not (info.supports_tuning or name in by_method):
            what = "not found" if info is None else "does not support tuning"
            problems.append(
                Diagnostic(f"base model {name} {what}{hint}", where.location, where.field)
            )
    if problems:
        raise UserError(problems)


def _getter(provider: Provider, name: str) -> Callable[[], BaseModel | None]:
    return lambda: provider.base_model(name)


def use_color(no_color: bool = False) -> bool:
    """Colour only on a terminal, never with --no-color (anywhere on the line) or NO_COLOR."""
    if no_color or log.config().no_color or os.environ.get("NO_COLOR", "") != "":
        return False
    return sys.stdout.isatty()


def reporter() -> Reporter:
    """How apply reports: JSON lines with --log-format json, else lines or bars (TTY only)."""
    quiet = log.config().quiet
    return JsonReporter(quiet=quiet) if log.config().json else TerminalReporter(quiet=quiet)
