"""Ask a model every held-out question, a bounded number at a time, and score the answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gitops_tune.dataset import Record
from gitops_tune.evaluation.metrics import Result, score
from gitops_tune.evaluation.spec import EvaluationSpec

#: an example -> (answer text, tokens used); retried by the caller.
Ask = Callable[[Record], tuple[str, int]]


def evaluate(
    spec: EvaluationSpec,
    ask: Ask,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Each example is asked once: a pair's input (the preamble already prepended, exactly as
    in training), a chat example's conversation up to its last model turn; the answer is
    scored against the pair's output or that last turn's text. ``progress(done, total)``
    after each answer."""
    examples = list(spec.examples())
    done = 0
    lock = threading.Lock()

    def one(example: Record) -> tuple[str, int]:
        nonlocal done
        answer = ask(example)
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(examples))
        return answer

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        answers = list(pool.map(one, examples))
    pairs = [(text, e.output) for (text, _), e in zip(answers, examples, strict=True)]
    tokens = sum(t for _, t in answers)
    return score(spec.metric, pairs, spec.normalization, tokens)
