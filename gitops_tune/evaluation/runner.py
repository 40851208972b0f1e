"""Ask a model every held-out question, a bounded number at a time, and score the answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gitops_tune.evaluation.metrics import Result, score
from gitops_tune.evaluation.spec import EvaluationSpec

#: prompt -> (answer text, tokens used); retried by the caller.
Ask = Callable[[str], tuple[str, int]]


def evaluate(
    spec: EvaluationSpec,
    ask: Ask,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Each example's input (the preamble already prepended, exactly as in training) is asked
    once; ``progress(done, total)`` after each answer."""
    examples = list(spec.examples())
    done = 0
    lock = threading.Lock()

    def one(prompt: str) -> tuple[str, int]:
        nonlocal done
        answer = ask(prompt)
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(examples))
        return answer

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        answers = list(pool.map(one, [e.text_input for e in examples]))
    pairs = [(text, e.output) for (text, _), e in zip(answers, examples, strict=True)]
    tokens = sum(t for _, t in answers)
    return score(spec.metric, pairs, spec.normalization, tokens)
