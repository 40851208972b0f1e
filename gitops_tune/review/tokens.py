"""Training tokens counted by the backend (``plan --count-tokens``).

Each model's examples (the input with its preamble, and the output) are streamed in batches of
at most `MAX_TEXTS` texts and `MAX_CHARS` characters, one ``countTokens`` request a batch, so
a dataset of 500 examples costs a request or two, not 500. A batch stays well under the
smallest input limit of a tunable base model (16,384 tokens for the Gemini API's
``gemini-1.5-flash-001-tuning``), at about four characters a token. When the backend cannot
count (no permission, a base model without ``countTokens``, gave up after retries) the model's
tokens are estimated instead, marked as such, and the reason is said once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial

from gitops_tune.dataset.records import token_texts
from gitops_tune.desired import DesiredModel
from gitops_tune.providers.base import ProviderError
from gitops_tune.providers.retry import RetryPolicy, with_retries

MAX_TEXTS = 1_000
MAX_CHARS = 40_000

BatchCounter = Callable[[str, Sequence[str]], int]
"""(base model, texts) -> their tokens, in one request: `Provider.count_tokens`."""


def batches(
    texts: Iterable[str], max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS
) -> Iterator[list[str]]:
    """``texts`` in order, grouped; a text longer than ``max_chars`` goes alone."""
    batch: list[str] = []
    chars = 0
    for text in texts:
        if batch and (len(batch) >= max_texts or chars + len(text) > max_chars):
            yield batch
            batch, chars = [], 0
        batch.append(text)
        chars += len(text)
    if batch:
        yield batch


def texts_of(model: DesiredModel) -> Iterator[str]:
    """What trains, as text (`token_texts`): every pair's input (the preamble included) and
    output, every chat example's text parts."""
    for example in model.examples():
        yield from token_texts(example)


class BackendCounter:
    """A `TokenCounter` over the backend: one model's training tokens for one epoch, or None
    (estimate instead) when the backend could not count them; ``problems`` says why, per
    model, for the caller to report."""

    def __init__(self, count: BatchCounter, retry: RetryPolicy) -> None:
        self.count = count
        self.retry = retry
        self.problems: dict[str, str] = {}
        self.requests = 0

    def __call__(self, model: DesiredModel) -> int | None:
        total = 0
        try:
            for batch in batches(texts_of(model)):
                what = f"count tokens with {model.base_model}"
                total += with_retries(partial(self._one, model.base_model, batch), what, self.retry)
        except ProviderError as e:
            self.problems[model.name] = str(e)
            return None
        return total

    def _one(self, base_model: str, batch: Sequence[str]) -> int:
        self.requests += 1
        return self.count(base_model, batch)
