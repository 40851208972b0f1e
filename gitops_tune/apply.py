"""Execute a Plan through a provider: ordering, parallelism, retries, waiting, retirement.

Changes for one name run in order (clean-up first, then training, then patches); names run in
parallel, except the stages of one pipeline (``spec.from.model``): those run parents first
(children first when destroying), and a child is created only once its parent is ACTIVE and
passed its evaluation gate, from the parent's tuned model. Nothing here remembers anything
between runs: ``apply --wait`` waits, then asks the
planner again, and retires superseded models only when the fresh plan says their replacement
is ACTIVE. A run killed at any point is repaired by the next run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from typing import Protocol, TypeVar

from gitops_tune.apply_stages import Deferred, checkpoint_id, parent_problem, pipelines
from gitops_tune.desired import DesiredModel
from gitops_tune.desired.state import Stage
from gitops_tune.errors import UserError
from gitops_tune.gatekeeper import Gatekeeper, Outcome
from gitops_tune.plan import Action, Change, Plan, PlanOptions, Reason, plan, usable
from gitops_tune.plan.gate import Gate
from gitops_tune.plan.gate import status as gate_status
from gitops_tune.providers.base import (
    NewModel,
    Owner,
    Provider,
    ProviderError,
    RemoteModel,
    State,
    TransientError,
)
from gitops_tune.providers.retry import RetryPolicy, with_retries
from gitops_tune.render.evaluation import table as evaluation_table

T = TypeVar("T")


class Reporter(Protocol):
    """Where apply tells what it does; the CLI decides how that looks."""

    def action(self, change: Change, status: str, detail: str = "") -> None: ...

    def progress(self, models: Sequence[tuple[DesiredModel, RemoteModel | None]]) -> None: ...

    def evaluation(self, name: str, model: str, done: int, total: int) -> None: ...


@dataclass
class ApplyOptions:
    parallelism: int = 10
    wait: bool = False
    timeout_s: float | None = None
    poll_s: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    eval_concurrency: int = 4  # questions in flight per evaluated model


@dataclass
class ApplyResult:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)  # after a failed step
    trained: list[str] = field(default_factory=list)  # tuned model IDs started or awaited
    evaluated: list[Outcome] = field(default_factory=list)  # evaluations run by this apply
    rejected: list[str] = field(default_factory=list)  # "name: rejected at ..." (plan's words)
    deferred: list[str] = field(default_factory=list)  # stages waiting for a parent (no --wait)

    def merge(self, other: ApplyResult) -> None:
        for f in fields(self):
            getattr(self, f.name).extend(getattr(other, f.name))

    def raise_if_failed(self) -> None:
        """One error that says what was done, what failed and what was not attempted; then
        the models an evaluation rejected, with their scores (the old ones keep serving)."""
        if not self.failed:
            self._raise_if_rejected()
            return
        skipped = f", {len(self.not_attempted)} not attempted" if self.not_attempted else ""
        lines = [
            f"{len(self.failed)} change(s) failed{skipped}. Rerun apply to finish: it reads the "
            "remote models again, so a change whose answer was lost is adopted, not repeated."
        ]
        lines += [f"  done:          {d}" for d in self.done] or ["  done:          nothing"]
        lines += [f"  failed:        {f}" for f in self.failed]
        lines += [f"  not attempted: {n}" for n in self.not_attempted]
        raise UserError("\n".join(lines))

    def _raise_if_rejected(self) -> None:
        if not self.rejected:
            return
        shown = {o.name for o in self.evaluated}
        lines = [
            f"{len(self.rejected)} model(s) rejected by their evaluation; the models serving "
            "before keep serving and nothing was deleted:",
            evaluation_table(self.evaluated),
            *(r for r in self.rejected if r.split(":", 1)[0] not in shown),
        ]
        raise UserError("\n".join(line for line in lines if line))


class Applier:
    def __init__(
        self,
        provider: Provider,
        desired: Sequence[DesiredModel],
        options: ApplyOptions,
        reporter: Reporter,
        plan_options: PlanOptions,
    ) -> None:
        self.provider = provider
        self.desired = list(desired)
        self.options = options
        self.reporter = reporter
        self.plan_options = plan_options
        self.parents = {d.name: d.stage.parent for d in self.desired if d.stage is not None}
        self._deadline = math.inf

    def run(self, the_plan: Plan) -> ApplyResult:
        result = ApplyResult()
        timeout = self.options.timeout_s
        self._deadline = time.monotonic() + timeout if timeout else math.inf
        if the_plan.migration is not None:  # first: the changes read what it writes
            self.provider.migrate()
        self._execute(the_plan.actionable, result, children_first=the_plan.destroy)
        if self.options.wait and not the_plan.destroy:
            waiting = [c for c in the_plan.changes if c.desired is not None]
            self._wait_and_retire(waiting, result)
        return result

    # -- execution ---------------------------------------------------------------------------

    def _execute(
        self, changes: Sequence[Change], result: ApplyResult, children_first: bool = False
    ) -> None:
        """Each pipeline of stages in its own worker, its names parents first (or children
        first); models without stages are pipelines of one."""
        groups: dict[str, list[Change]] = {}
        for c in changes:
            groups.setdefault(c.name, []).append(c)
        chains = pipelines(groups, self.parents, children_first)
        workers = max(1, min(self.options.parallelism, len(chains)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for outcome in pool.map(self._run_chain, chains):
                result.merge(outcome)

    def _run_chain(self, chain: list[list[Change]]) -> ApplyResult:
        """One pipeline's groups in order; a stage whose parent failed is not attempted, one
        whose parent is deferred is deferred too."""
        out = ApplyResult()
        stopped: dict[str, str] = {}  # name -> "failed" or "deferred"
        for changes in chain:
            name = changes[0].name
            parent = self.parents.get(name, "")
            if parent in stopped:
                stopped[name] = stopped[parent]
                told = out.deferred if stopped[parent] == "deferred" else out.not_attempted
                told += [f"{_label(c)}: parent {parent} {stopped[parent]}" for c in changes]
                continue
            part = self._run_group(changes)
            out.merge(part)
            if part.failed or part.deferred:
                stopped[name] = "failed" if part.failed else "deferred"
        return out

    def _run_group(self, changes: list[Change]) -> ApplyResult:
        out = ApplyResult()
        for i, c in enumerate(changes):
            label = _label(c)
            try:
                self.reporter.action(c, "start")
                judged = self._run_change(c)
            except Deferred as e:  # a stage whose parent is not ready, and no --wait
                out.deferred += [f"{_label(n)}: {e}" for n in changes[i:]]
                self.reporter.action(c, "deferred", str(e))
                return out
            except (ProviderError, UserError) as e:  # UserError: a dataset changed mid-run
                out.failed.append(f"{label}: {e}")
                out.not_attempted += [_label(n) for n in changes[i + 1 :]]
                self.reporter.action(c, "failed", str(e))
                return out
            out.done.append(label)
            if judged is not None:
                out.evaluated.append(judged)
                if not judged.judgement.passed:
                    out.rejected.append(f"{c.name}: {judged.judgement.why}")
            if c.action.trains and c.new_id:
                out.trained.append(c.new_id)
            self.reporter.action(c, "done")
        return out

    def _call(self, call: Callable[[], T], what: str) -> T:
        return with_retries(call, what, self.options.retry)

    def _run_change(self, c: Change) -> Outcome | None:
        p = self.provider
        if c.action is Action.EVALUATE and c.remote and c.desired:
            keeper = Gatekeeper(p, self._call, self.reporter, self.options.eval_concurrency)
            return keeper.check(c.desired, c.remote, self._observe())
        if c.action is Action.CANCEL and c.remote:
            remote = c.remote
            self._call(lambda: p.cancel(remote), f"cancel {remote}")
            self._call(lambda: p.delete(remote), f"delete {remote}")
        elif c.action is Action.DELETE and c.remote:
            remote = c.remote
            self._call(lambda: p.delete(remote), f"delete {remote}")
        elif c.action in (Action.UPDATE, Action.RESTORE) and c.remote and c.desired:
            remote, d = c.remote, c.desired
            owner = self._owner(d)
            self._call(
                lambda: p.update(remote, d.display_name, d.description, owner, d.serving),
                f"update {remote}",
            )
        elif c.action.trains and c.desired and c.new_id:
            if c.action is Action.RECREATE and c.remote and not self._recreated(c):
                remote = c.remote
                self._call(lambda: p.delete(remote), f"delete {remote}")
            self._create(self._new_model(c.desired, c.new_id))
        return None

    def _create(self, new: NewModel) -> None:
        """Create, retried. A create whose answer was lost (or whose read-back failed) may
        have been made: before trying again, read the model back, itself retried, so that a
        made model is adopted and the attempt budget is not spent re-sending what worked."""
        p = self.provider

        def attempt() -> RemoteModel:
            try:
                return p.create(new)
            except TransientError:
                made = self._call(lambda: p.get(new.model_id), f"get {new.model_id}")
                if made is not None and made.owner == new.owner:
                    return made
                raise

        self._call(attempt, f"create {new.model_id}")

    def _recreated(self, c: Change) -> bool:
        """A FAILED model planned for recreation that is no longer FAILED was recreated by a
        concurrent run since the plan: deleting it would throw that training away (the create
        that follows adopts it instead)."""
        if c.remote_state is not State.FAILED or c.remote is None:
            return False
        remote = c.remote
        now = self._call(lambda: self.provider.get(remote), f"get {remote}")
        return now is not None and now.state is not State.FAILED

    def _owner(self, d: DesiredModel) -> Owner:
        return Owner(self.plan_options.workspace, d.name, d.fingerprint, d.prevent_destroy)

    def _new_model(self, d: DesiredModel, model_id: str) -> NewModel:
        made = new_model(d, model_id, self._owner(d))
        if d.stage is None:
            return made
        parent = self._ready_parent(d.stage)
        checkpoint = checkpoint_id(parent, d.stage)
        options = replace(
            d.options, pre_tuned_model=parent.tuned_model, pre_tuned_checkpoint=checkpoint
        )
        return replace(made, options=options)

    def _ready_parent(self, stage: Stage) -> RemoteModel:
        """The parent's current model once it is ACTIVE and passed its evaluation gate
        (scored here, with --wait); a parent that FAILED or was rejected stops the child."""
        d = next(m for m in self.desired if m.name == stage.parent)
        while True:
            observed = self._observe()
            mine = [m for m in observed if m.owner is not None and m.owner.name == d.name]
            current = _current_models(observed, {d.name: d}).get(d.name)
            found = gate_status(d, current, mine)
            if found.gate is Gate.OPEN and current is not None:
                return current
            waits = parent_problem(d, current, found)
            if not self.options.wait:
                raise Deferred(f"{waits}; `gitops-tune apply --wait` waits for it")
            if current is not None and found.gate is Gate.UNSCORED:
                keeper = Gatekeeper(self.provider, self._call, self.reporter)
                keeper.check(d, current.id, observed)
                continue
            if time.monotonic() >= self._deadline:
                raise UserError(f"timed out: {waits}; run `gitops-tune apply --wait` again")
            time.sleep(self.options.poll_s)

    # -- waiting and retirement --------------------------------------------------------------

    def _wait_and_retire(self, changes: Sequence[Change], result: ApplyResult) -> None:
        waits_for = (Action.IN_PROGRESS, Action.EVALUATE, Action.REJECTED)
        names = {c.name for c in changes if c.action.trains or c.action in waits_for}
        if not names:
            return
        if result.failed:
            result.not_attempted.append("waiting for training and retiring superseded models")
            return
        by_name = {d.name: d for d in self.desired if d.name in names}
        deadline = time.monotonic() + self.options.timeout_s if self.options.timeout_s else math.inf
        while True:
            try:
                observed = self._observe()
            except ProviderError as e:  # retries exhausted while polling: report, don't crash
                result.failed.append(f"waiting for {', '.join(sorted(names))}: {e}")
                result.not_attempted.append("retiring superseded models")
                return
            current = _current_models(observed, by_name)
            self.reporter.progress([(by_name[n], current.get(n)) for n in sorted(by_name)])
            training = [n for n in names if (m := current.get(n)) and m.state is State.TRAINING]
            if not training:
                break
            if time.monotonic() >= deadline:
                raise UserError(
                    f"timed out waiting for {', '.join(sorted(training))}; training goes on "
                    "remotely: run `gitops-tune apply --wait` again to finish"
                )
            time.sleep(self.options.poll_s)
        failed = sorted(
            n
            for n in names
            if (m := current.get(n)) and m.state is State.FAILED and not usable(by_name[n], m)
        )
        for n in failed:
            m = current[n]
            result.failed.append(f"{n}: {m.id} FAILED{': ' + m.error if m.error else ''}")
        # Level-triggered: ask the planner again; score what it says needs scoring, ask again,
        # and run only its clean-up (a model that failed its evaluation retires nothing).
        fresh = plan(self.desired, observed, self.plan_options)
        scoring = [c for c in fresh.actionable if c.action is Action.EVALUATE and c.name in names]
        if scoring:
            self._execute(scoring, result)
            fresh = plan(self.desired, self._observe(), self.plan_options)
        told = {r.split(":", 1)[0] for r in result.rejected}
        result.rejected += [
            f"{c.name}: {c.reasons[0]}"
            for c in fresh.changes
            if c.action is Action.REJECTED and c.name in names and c.name not in told
        ]
        self._execute(_switch_and_retire(fresh, names), result)

    def _observe(self) -> list[RemoteModel]:
        ws = self.plan_options.workspace
        return self._call(lambda: self.provider.list_models(ws), "list models")


def _switch_and_retire(fresh: Plan, names: set[str]) -> list[Change]:
    """After waiting: the checkpoint switches the new models need (serving.checkpoint, best
    once scored) before they take over, then the clean-up."""
    switch = Reason.SERVING_CHECKPOINT_CHANGED
    found = [
        c
        for c in fresh.actionable
        if c.name in names
        and (
            c.action in (Action.DELETE, Action.CANCEL)
            or (c.action is Action.UPDATE and switch in c.reason_codes)
        )
    ]
    return sorted(found, key=lambda c: c.action is not Action.UPDATE)


def _label(c: Change) -> str:
    return f"{c.name}: {c.action.value} {c.new_id or c.remote}"


def _current_models(
    observed: Sequence[RemoteModel], desired: dict[str, DesiredModel]
) -> dict[str, RemoteModel]:
    out: dict[str, RemoteModel] = {}
    for m in observed:
        d = desired.get(m.owner.name) if m.owner else None
        if d is not None and m.owner is not None and m.owner.fingerprint == d.fingerprint:
            best = out.get(d.name)
            if best is None or (best.state is not State.ACTIVE and m.state is State.ACTIVE):
                out[d.name] = m
    return out


def new_model(d: DesiredModel, model_id: str, owner: Owner) -> NewModel:
    """What creating the desired model ``d`` as ``model_id`` sends."""
    return NewModel(
        model_id=model_id,
        display_name=d.display_name,
        description=d.description,
        owner=owner,
        base_model=d.base_model,
        hyperparameters=d.hyperparameters,
        examples=d.examples,
        training=d.training,
        validation=d.validation,
        options=d.options,
    )
