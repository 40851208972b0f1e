"""The applier against an in-memory provider built from the `Provider` protocol: what it
calls, in which order, and what it reports, without a server."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from gitops_tune.apply import Applier, ApplyOptions, ApplyResult
from gitops_tune.desired import DesiredModel
from gitops_tune.errors import UserError
from gitops_tune.plan import Action, Change, PlanOptions, plan, tuned_model_id
from gitops_tune.providers.base import (
    BaseModel,
    Contents,
    Migration,
    NewModel,
    Owner,
    Prompt,
    Provider,
    ProviderError,
    RemoteModel,
    Scores,
    State,
    TransientError,
)
from gitops_tune.providers.retry import RetryPolicy
from tests.factories import WS, desired, remote

FAST = RetryPolicy(attempts=3, base_s=0.0, cap_s=0.0)


class FakeProvider:
    """Models in a dict; ``calls`` records every request; ``flaky`` fails that many calls
    with a transient error first; ``finish`` says whether new models end ACTIVE at once."""

    tuning_hint = ""

    def __init__(self, models: Sequence[RemoteModel] = ()) -> None:
        self.models = {m.id: m for m in models}
        self.calls: list[str] = []
        self.flaky = 0
        self.finish = True

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.flaky:
            self.flaky -= 1
            raise TransientError("503 try again", 503)

    def list_models(self, workspace: str) -> list[RemoteModel]:
        self._call("list")
        return [m for m in self.models.values() if m.owner and m.owner.workspace == workspace]

    def get(self, model_id: str) -> RemoteModel | None:
        self._call(f"get {model_id}")
        return self.models.get(model_id)

    def base_model(self, name: str) -> BaseModel | None:
        return BaseModel(name, True)

    def create(self, new: NewModel) -> RemoteModel:
        self._call(f"create {new.model_id}")
        model_id = "tunedModels/" + new.model_id
        state = State.ACTIVE if self.finish else State.TRAINING
        made = remote(
            new.owner.name, new.owner.fingerprint, state, model_id=new.model_id, workspace=WS
        )
        self.models.setdefault(model_id, made)
        return self.models[model_id]

    def update(
        self,
        model_id: str,
        display_name: str,
        description: str,
        owner: Owner,
        serving: str = "",
    ) -> None:
        self._call(f"update {model_id}")
        old = self.models[model_id]
        self.models[model_id] = dataclasses.replace(
            old, display_name=display_name, description=description, owner=owner
        )

    def cancel(self, model_id: str) -> None:
        self._call(f"cancel {model_id}")

    def count_tokens(self, base_model: str, contents: Contents, resolution: str | None) -> int:
        self._call(f"count {base_model}")
        return sum(len(p.get("text", "")) for c in contents for p in c["parts"])

    def delete(self, model_id: str) -> None:
        self._call(f"delete {model_id}")
        self.models.pop(model_id, None)

    def migration(self) -> Migration | None:
        return None

    def migrate(self) -> None:
        self._call("migrate")

    def listing_state(self) -> None:
        return None

    def adopt_listing_state(self, state: object) -> None:
        pass

    def generate(self, model: RemoteModel, prompt: Prompt) -> tuple[str, int]:
        self._call(f"generate {model.id}")
        return "", 0

    def record_scores(self, model_id: str, scores: Scores) -> None:
        self._call(f"record {model_id}")
        self.models[model_id] = dataclasses.replace(self.models[model_id], scores=scores)


class Quiet:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def action(self, change: Change, status: str, detail: str = "") -> None:
        self.events.append((change.name, status))

    def progress(self, models: Sequence[tuple[DesiredModel, RemoteModel | None]]) -> None:
        pass

    def evaluation(self, name: str, model: str, done: int, total: int) -> None:
        pass


def apply(
    provider: FakeProvider, models: list[DesiredModel], *, wait: bool = False, flaky: int = 0
) -> ApplyResult:
    """Plan, then apply that plan; ``flaky`` transient failures hit the apply's first calls."""
    fake: Provider = provider
    options = PlanOptions(WS)
    the_plan = plan(models, provider.list_models(WS), options, "local")
    provider.calls.clear()
    provider.flaky = flaky
    applier = Applier(fake, models, ApplyOptions(wait=wait, poll_s=0, retry=FAST), Quiet(), options)
    return applier.run(the_plan)


def test_create_then_nothing_to_do() -> None:
    provider = FakeProvider()
    result = apply(provider, [desired("a")])
    new_id = tuned_model_id(WS, "a", "a" * 64)
    assert provider.calls == [f"create {new_id}"]
    assert result.trained == [new_id] and not result.failed
    result = apply(provider, [desired("a")])
    assert provider.calls == [] and result.done == []


def test_replace_retires_the_old_model_only_once_the_new_one_is_active() -> None:
    old = remote("a", "b" * 64)
    provider = FakeProvider([old])
    provider.finish = False  # the new model is still training
    apply(provider, [desired("a")])
    new_id = tuned_model_id(WS, "a", "a" * 64)
    assert provider.calls == [f"create {new_id}"]
    assert old.id in provider.models  # still serving while the replacement trains
    provider.models["tunedModels/" + new_id] = dataclasses.replace(
        provider.models["tunedModels/" + new_id], state=State.ACTIVE
    )
    apply(provider, [desired("a")], wait=True)
    assert f"delete {old.id}" in provider.calls
    assert old.id not in provider.models


def test_removed_model_is_deleted_and_a_foreign_one_is_never_touched() -> None:
    mine = remote("gone", "c" * 64)
    foreign = remote("other", "d" * 64, workspace="someone-else")
    provider = FakeProvider([mine, foreign])
    apply(provider, [])
    assert provider.calls == [f"delete {mine.id}"]
    assert foreign.id in provider.models


def test_training_model_superseded_is_cancelled_then_deleted() -> None:
    old = remote("a", "b" * 64, State.TRAINING)
    provider = FakeProvider([old])
    apply(provider, [desired("a")])
    assert provider.calls[:2] == [f"cancel {old.id}", f"delete {old.id}"]


def test_failed_model_is_deleted_before_it_is_trained_again() -> None:
    failed = remote("a", "a" * 64, State.FAILED)
    provider = FakeProvider([failed])
    apply(provider, [desired("a")])
    assert provider.calls == [f"get {failed.id}", f"delete {failed.id}", f"create {failed.id[12:]}"]


def test_transient_errors_are_retried_within_the_budget() -> None:
    provider = FakeProvider()
    result = apply(provider, [desired("a")], flaky=2)  # fewer than the 3 attempts
    assert not result.failed
    # issue 16: a create that failed is read back (that read retried on its own) before it is
    # sent again, so that one whose answer was lost is adopted, not re-sent
    assert [c.split()[0] for c in provider.calls] == ["create", "get", "get", "create"]


def test_a_failed_step_is_reported_with_what_was_done_and_not_attempted() -> None:
    provider = FakeProvider([remote("a", "a" * 64, State.FAILED)])
    result = apply(provider, [desired("a")], flaky=10)  # every attempt fails
    assert len(result.failed) == 1 and "gave up after 3 attempts" in result.failed[0]
    assert [c.action for c in plan([desired("a")], [], PlanOptions(WS)).changes] == [Action.CREATE]
    with pytest.raises(UserError, match="1 change\\(s\\) failed"):
        result.raise_if_failed()


def test_provider_refusal_is_a_failure_not_a_crash() -> None:
    class Refusing(FakeProvider):
        def create(self, new: NewModel) -> RemoteModel:
            raise ProviderError("403 permission denied", 403)

    provider = Refusing()
    result = apply(provider, [desired("a"), desired("b", fp="b" * 64)])
    assert sorted(f.split(":")[0] for f in result.failed) == ["a", "b"]
    assert result.done == []


def test_a_plan_that_migrates_migrates_before_its_changes() -> None:
    provider = FakeProvider()
    models = [desired("m")]
    options = PlanOptions(WS)
    the_plan = plan(models, provider.list_models(WS), options, "local")
    the_plan = dataclasses.replace(the_plan, migration=Migration("gs://b/old/", ("x",)))
    provider.calls.clear()
    applier = Applier(provider, models, ApplyOptions(poll_s=0, retry=FAST), Quiet(), options)
    assert not applier.run(the_plan).failed
    assert provider.calls[0] == "migrate" and provider.calls[1].startswith("create ")
