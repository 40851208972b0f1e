"""Apply's evaluation step: ask a new ACTIVE model (and, for ``noRegression``, the model
serving before it) every held-out question through the provider, score the answers
(`gitops_tune.evaluation`), and keep the outcome in each model's marker.

Idempotent: a model whose marker already holds scores for this evaluation is not asked again,
so a rerun after a crash between scoring and promotion only promotes. Nothing is deleted here;
promotion (retiring what the new model replaces) is the planner's next word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from gitops_tune.dataset import Example, Record
from gitops_tune.desired import DesiredModel
from gitops_tune.evaluation import EvaluationSpec, Judgement, Result, evaluate, judge
from gitops_tune.plan.gate import Gate, status, usable
from gitops_tune.providers.base import (
    Prompt,
    Provider,
    ProviderError,
    RemoteModel,
    Scores,
    Turns,
)

T = TypeVar("T")


class Call(Protocol):
    """A call with apply's retries."""

    def __call__(self, call: Callable[[], T], what: str) -> T: ...


class Progress(Protocol):
    def evaluation(self, name: str, model: str, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class Scored:
    """One model's score on the evaluation; ``result`` None when read from its marker."""

    model: str
    score: float
    result: Result | None = None


@dataclass(frozen=True)
class Outcome:
    name: str
    metric: str
    new: Scored
    serving: Scored | None
    judgement: Judgement

    @property
    def tokens(self) -> int:
        return sum(s.result.tokens for s in (self.new, self.serving) if s and s.result)


class Gatekeeper:
    def __init__(
        self, provider: Provider, call: Call, progress: Progress, concurrency: int = 4
    ) -> None:
        self.provider = provider
        self.call = call
        self.progress = progress
        self.concurrency = concurrency

    def check(
        self, d: DesiredModel, model_id: str, observed: Sequence[RemoteModel]
    ) -> Outcome | None:
        """Score ``model_id`` (d's current model) unless it already is; None: nothing to do."""
        spec = d.evaluation
        mine = [m for m in observed if m.owner is not None and m.owner.name == d.name]
        current = next((m for m in mine if m.id == model_id), None)
        if spec is None or current is None or not usable(d, current):
            raise ProviderError(f"{model_id}: not ACTIVE any more; nothing to evaluate")
        found = status(d, current, mine)
        if found.gate is not Gate.UNSCORED:
            return None
        rival = None
        if spec.no_regression and found.baseline is not None:
            rival = self._scored(d, spec, found.baseline, lambda _: "scored")
        new = self._scored(
            d, spec, current, lambda s: _verdict(judge(spec, s, rival.score if rival else None))
        )
        verdict = judge(spec, new.score, rival.score if rival else None)
        return Outcome(d.name, spec.metric, new, rival, verdict)

    def _scored(
        self,
        d: DesiredModel,
        spec: EvaluationSpec,
        model: RemoteModel,
        verdict: Callable[[float], str],
    ) -> Scored:
        """The model's score: from its marker when it holds this evaluation's, else measured
        and recorded (4 decimals, as the marker keeps it, so the planner judges the same)."""
        if model.scores is not None and model.scores.key == spec.key:
            return Scored(model.id, model.scores.score)
        provider = self.provider

        def ask(example: Record) -> tuple[str, int]:
            prompt = prompt_of(example)
            return self.call(lambda: provider.generate(model, prompt), f"ask {model.id}")

        def progress(done: int, total: int) -> None:
            self.progress.evaluation(d.name, model.id, done, total)

        result = evaluate(spec, ask, self.concurrency, progress)
        score = round(result.score, 4)
        scores = Scores(spec.key, score, verdict(score))
        self.call(lambda: provider.record_scores(model.id, scores), f"record scores {model.id}")
        return Scored(model.id, score, result)


def prompt_of(example: Record) -> Prompt:
    """What a held-out example asks: a pair's input as the one text it was trained on; a
    chat example's turns before its last model turn, with its system instruction."""
    return example.text_input if isinstance(example, Example) else Turns.of(example.prompt)


def _verdict(j: Judgement) -> str:
    return "passed" if j.passed else "rejected"
