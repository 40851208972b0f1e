"""What a manifest's ``spec.evaluation`` declares, resolved: the policy and the held-out set."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from gitops_tune.dataset import Record
from gitops_tune.evaluation.metrics import Normalization


@dataclass(frozen=True)
class EvaluationSpec:
    metric: str
    normalization: Normalization
    min_score: float
    no_regression: bool
    tolerance: float
    data_fingerprint: str  # of the held-out examples (preamble applied)
    count: int
    shown: str  # the data file as shown to the user, or "<manifest> (inline)"
    #: pairs (preamble applied) and chat examples (`gitops_tune.dataset.Conversation`)
    examples: Callable[[], Iterator[Record]] = field(compare=False, repr=False)
    #: ``serving.checkpoint: best``: every checkpoint is scored and the best one serves
    per_checkpoint: bool = False

    @property
    def key(self) -> str:
        """Which evaluation scores belong to: the set, the metric and the normalisation (not
        the thresholds: changing those judges the same scores again, without asking again),
        and whether each checkpoint is scored (only when it is, so other keys stay as they
        were: a model scored as a whole is scored again per checkpoint when best is asked)."""
        n = self.normalization
        parts: list[object] = [
            self.data_fingerprint,
            self.metric,
            n.ignore_case,
            n.collapse_whitespace,
            n.strip_punctuation,
        ]
        line = json.dumps(parts + (["per-checkpoint"] if self.per_checkpoint else []))
        return hashlib.sha256(line.encode()).hexdigest()[:12]
