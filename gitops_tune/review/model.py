"""What a review found, as data: per model its dataset diff against the base of the change,
its data-quality findings and what its training will cost. Renderers show it
(`gitops_tune.render.review`); the JSON plan carries it under ``review``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gitops_tune.errors import Diagnostic, Location, Severity


@dataclass(frozen=True)
class Finding:
    """One data-quality finding: a rule, a severity and where (see docs/data-quality.md)."""

    rule: str
    severity: Severity
    message: str
    location: Location

    def __str__(self) -> str:
        return str(self.diagnostic())

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(f"{self.message} [{self.rule}]", self.location, None, self.severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "file": self.location.file,
            "line": self.location.line,
            "message": self.message,
        }


@dataclass(frozen=True)
class Sample:
    """One example shown in the diff; ``before`` is the old output of a changed example."""

    text_input: str
    output: str
    before: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text_input": self.text_input, "output": self.output}
        if self.before is not None:
            out["before"] = self.before
        return out


@dataclass(frozen=True)
class DatasetDiff:
    """Examples before -> after, keyed by input (without the preamble)."""

    before: int
    after: int
    added: int = 0
    removed: int = 0
    changed: int = 0  # same input, another output
    added_samples: tuple[Sample, ...] = ()
    removed_samples: tuple[Sample, ...] = ()
    changed_samples: tuple[Sample, ...] = ()
    labels_before: Mapping[str, int] | None = None  # a small label set (classification)
    labels_after: Mapping[str, int] | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "samples": {
                "added": [s.to_json() for s in self.added_samples],
                "removed": [s.to_json() for s in self.removed_samples],
                "changed": [s.to_json() for s in self.changed_samples],
            },
            "labels": None
            if self.labels_before is None and self.labels_after is None
            else {"before": self.labels_before, "after": self.labels_after},
        }


@dataclass(frozen=True)
class BaseChange:
    """One model against the base of the change (``plan --base REF``)."""

    status: Literal["new", "changed", "unchanged", "removed"]
    dataset: DatasetDiff | None = None
    moved: tuple[str, str] | None = None  # the data file, before -> after
    manifest: tuple[str, str] | None = None  # the manifest file, before -> after (renamed)
    preamble: tuple[str, str] | None = None
    hyperparameters: tuple[tuple[str, object, object], ...] = ()  # (field, before, after)
    base_model: tuple[str, str] | None = None
    problem: str | None = None  # the base could not be read (its own errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "dataset": self.dataset.to_json() if self.dataset else None,
            "moved": list(self.moved) if self.moved else None,
            "manifest": list(self.manifest) if self.manifest else None,
            "preamble": list(self.preamble) if self.preamble else None,
            "hyperparameters": [
                {"path": f"hyperparameters.{k}", "before": b, "after": a}
                for k, b, a in self.hyperparameters
            ],
            "base_model": list(self.base_model) if self.base_model else None,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Cost:
    """Training tokens (examples x epochs) and their price, for a model that trains; with
    ``spec.evaluation``, the inference tokens apply's evaluation will spend (not priced: the
    table prices training tokens)."""

    tokens: int
    estimated: bool  # True: about four characters a token; False: the backend counted them
    epochs: int
    usd: float | None  # None: no price for the base model in the table
    price_per_million: float | None = None
    price_source: str | None = None
    evaluation_tokens: int = 0  # estimated, see `review.cost.evaluation_usage`
    evaluation_calls: int = 0  # generateContent calls apply makes to evaluate
    counts: str = ""  # what the tokens count, where a tuning method counts differently

    def to_json(self) -> dict[str, Any]:
        return {
            **({"counts": self.counts} if self.counts else {}),
            "training_tokens": self.tokens,
            "estimated": self.estimated,
            "epochs": self.epochs,
            "usd": None if self.usd is None else round(self.usd, 4),
            "usd_per_million_tokens": self.price_per_million,
            "price_source": self.price_source,
            "evaluation_tokens": self.evaluation_tokens,
            "evaluation_calls": self.evaluation_calls,
        }


@dataclass(frozen=True)
class ModelReview:
    name: str
    findings: tuple[Finding, ...] = ()
    silenced: Mapping[str, str] = field(default_factory=dict)  # rule -> reason, when it fired
    cost: Cost | None = None
    base: BaseChange | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "findings": [f.to_json() for f in self.findings],
            "silenced": [{"rule": r, "reason": why} for r, why in sorted(self.silenced.items())],
            "cost": self.cost.to_json() if self.cost else None,
            "base": self.base.to_json() if self.base else None,
        }


@dataclass(frozen=True)
class Review:
    """A plan's review: models in name order; ``base`` is the REF compared with, if any."""

    models: tuple[ModelReview, ...] = ()
    base: str | None = None
    base_commit: str | None = None

    def of(self, name: str) -> ModelReview | None:
        return next((m for m in self.models if m.name == name), None)

    @property
    def total_usd(self) -> float | None:
        costs = [m.cost for m in self.models if m.cost is not None]
        if not costs or any(c.usd is None for c in costs):
            return None
        return sum(c.usd or 0.0 for c in costs)

    @property
    def total_tokens(self) -> int:
        return sum(m.cost.tokens for m in self.models if m.cost is not None)

    @property
    def evaluation_tokens(self) -> int:
        return sum(m.cost.evaluation_tokens for m in self.models if m.cost is not None)

    def to_json(self) -> dict[str, Any]:
        total = self.total_usd
        return {
            "base": self.base,
            "base_commit": self.base_commit,
            "models": [m.to_json() for m in self.models],
            "total": {
                "training_tokens": self.total_tokens,
                "usd": None if total is None else round(total, 4),
                "evaluation_tokens": self.evaluation_tokens,
            },
        }
