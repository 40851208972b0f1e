"""Apply's evaluation step: ask a new ACTIVE model (and, for ``noRegression``, the model
serving before it) every held-out question through the provider, score the answers
(`gitops_tune.evaluation`), and keep the outcome in each model's marker.

Idempotent: a model whose marker already holds scores for this evaluation is not asked again,
so a rerun after a crash between scoring and promotion only promotes. Nothing is deleted here;
promotion (retiring what the new model replaces) is the planner's next word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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
            d,
            spec,
            current,
            lambda s: _verdict(judge(spec, s, rival.score if rival else None)),
            per_checkpoint=spec.per_checkpoint,
        )
        verdict = judge(spec, new.score, rival.score if rival else None)
        return Outcome(d.name, spec.metric, new, rival, verdict)

    def _scored(
        self,
        d: DesiredModel,
        spec: EvaluationSpec,
        model: RemoteModel,
        verdict: Callable[[float], str],
        per_checkpoint: bool = False,
    ) -> Scored:
        """The model's score: from its marker when it holds this evaluation's, else measured
        and recorded (4 decimals, as the marker keeps it, so the planner judges the same).
        ``per_checkpoint`` (``serving.checkpoint: best``): its best checkpoint's score."""
        kept = model.scores
        if kept is not None and kept.key == spec.key and (kept.best or not per_checkpoint):
            return Scored(model.id, kept.score)
        if per_checkpoint:
            each, best, result = self._checkpoints(d, spec, model)
            score = dict(each)[best]
            scores = Scores(spec.key, score, verdict(score), each, best)
        else:
            result = self._measure(d, spec, model, model.id)
            score = round(result.score, 4)
            scores = Scores(spec.key, score, verdict(score))
        provider = self.provider
        self.call(lambda: provider.record_scores(model.id, scores), f"record scores {model.id}")
        return Scored(model.id, score, result)

    def _checkpoints(
        self, d: DesiredModel, spec: EvaluationSpec, model: RemoteModel
    ) -> tuple[tuple[tuple[int, float], ...], int, Result]:
        """Each checkpoint asked on its own endpoint, one after the other (each with the
        bounded concurrency), and the highest score chosen; a tie goes to the earlier epoch
        (less training for the same score: the loss-curve advice, stop before the plateau).
        (each epoch's score, the best epoch, its result with every checkpoint's tokens)."""
        asked = checkpoint_endpoints(model)
        if not asked:
            have = ", ".join(str(c.epoch) for c in model.checkpoints) or "none"
            raise ProviderError(
                f"{model.id}: serving.checkpoint best needs its checkpoints' endpoints to "
                f"score them; none answers (checkpoints at epochs: {have})"
            )
        results = {
            epoch: self._measure(d, spec, replace(model, endpoint=endpoint), f"{model.id}@{epoch}")
            for epoch, endpoint in asked
        }
        each = tuple((epoch, round(r.score, 4)) for epoch, r in results.items())
        best = max(each, key=lambda es: (es[1], -es[0]))[0]
        tokens = sum(r.tokens for r in results.values())
        return each, best, replace(results[best], tokens=tokens)

    def _measure(
        self, d: DesiredModel, spec: EvaluationSpec, model: RemoteModel, shown: str
    ) -> Result:
        provider = self.provider

        def ask(example: Record) -> tuple[str, int]:
            prompt = prompt_of(example)
            return self.call(lambda: provider.generate(model, prompt), f"ask {shown}")

        def progress(done: int, total: int) -> None:
            self.progress.evaluation(d.name, shown, done, total)

        return evaluate(spec, ask, self.concurrency, progress)


def checkpoint_endpoints(model: RemoteModel) -> list[tuple[int, str]]:
    """(epoch, endpoint) of each checkpoint that can be asked on its own: on the endpoint it
    was deployed to, or, for the checkpoint the model's endpoint serves, on that one. A
    checkpoint listed on the model's endpoint while another is served there cannot be."""
    out: dict[int, str] = {}
    for c in sorted(model.checkpoints, key=lambda c: (c.epoch, c.step)):
        if c.endpoint and c.endpoint != model.endpoint:
            out[c.epoch] = c.endpoint
        elif c.checkpoint_id == model.serving_checkpoint and model.endpoint:
            out[c.epoch] = model.endpoint
    return sorted(out.items())


def prompt_of(example: Record) -> Prompt:
    """What a held-out example asks: a pair's input as the one text it was trained on; a
    chat example's turns before its last model turn, with its system instruction."""
    return example.text_input if isinstance(example, Example) else Turns.of(example.prompt)


def _verdict(j: Judgement) -> str:
    return "passed" if j.passed else "rejected"
