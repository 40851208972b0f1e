"""Training tokens counted by the backend (``plan --count-tokens``).

Each model's examples go whole, as Google's ``Content`` (`records.token_example`: text,
``fileData`` and ``videoMetadata`` parts, the system instruction's text leading the first user
turn), in batches of at most `MAX_PARTS` parts, `MAX_CHARS` characters of text and `MAX_MEDIA`
``fileData`` parts, one ``countTokens`` request a batch, so a dataset of 500 examples costs a
request or two, not 500. A batch stays well under the smallest input limit of a tunable base
model (16,384 tokens for the Gemini API's ``gemini-1.5-flash-001-tuning``), at about four
characters a token; an example with an audio or video part shares its batch with no other
recording (a recording's tokens grow with its length: 263 tokens a second of video, "Understand
and count tokens"), and examples with different ``mediaResolution`` are not batched together
(the request has one ``generationConfig``). When the backend cannot count (no permission, a
base model without ``countTokens``, gave up after retries) the model's tokens are estimated
instead, marked as such, and the reason is said once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from gitops_tune.dataset.records import TokenExample, token_example
from gitops_tune.desired import DesiredModel
from gitops_tune.providers.base import ProviderError
from gitops_tune.providers.retry import RetryPolicy, with_retries

MAX_PARTS = 1_000
MAX_CHARS = 40_000
MAX_MEDIA = 30  # as many images as one example may hold ("Image tuning")

BatchCounter = Callable[[str, Sequence[Mapping[str, Any]], "str | None"], int]
"""(base model, contents, mediaResolution) -> their tokens, in one request:
`Provider.count_tokens`."""


class _Batch:
    def __init__(self) -> None:
        self.examples: list[TokenExample] = []
        self.parts = self.chars = self.media = self.recordings = 0

    def fits(self, e: TokenExample, max_parts: int, max_chars: int, max_media: int) -> bool:
        if not self.examples:
            return True
        return (
            self.parts + e.parts <= max_parts
            and self.chars + e.chars <= max_chars
            and self.media + e.media <= max_media
            and not (self.recordings and e.recordings)
            and e.resolution == self.examples[0].resolution
        )

    def add(self, e: TokenExample) -> None:
        self.examples.append(e)
        self.parts += e.parts
        self.chars += e.chars
        self.media += e.media
        self.recordings += e.recordings


def batches(
    examples: Iterable[TokenExample],
    max_parts: int = MAX_PARTS,
    max_chars: int = MAX_CHARS,
    max_media: int = MAX_MEDIA,
) -> Iterator[list[TokenExample]]:
    """``examples`` in order, grouped; an example over a limit on its own goes alone, and an
    example with no parts (a pair of empty texts) is left out."""
    batch = _Batch()
    for example in examples:
        if not example.contents:
            continue
        if not batch.fits(example, max_parts, max_chars, max_media):
            yield batch.examples
            batch = _Batch()
        batch.add(example)
    if batch.examples:
        yield batch.examples


def examples_of(model: DesiredModel) -> Iterator[TokenExample]:
    """What trains, as ``countTokens`` takes it: every example whole (`token_example`)."""
    for record in model.examples():
        yield token_example(record)


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
            for batch in batches(examples_of(model)):
                what = f"count tokens with {model.base_model}"
                total += with_retries(partial(self._one, model.base_model, batch), what, self.retry)
        except ProviderError as e:
            self.problems[model.name] = str(e)
            return None
        return total

    def _one(self, base_model: str, batch: Sequence[TokenExample]) -> int:
        self.requests += 1
        contents = [turn for example in batch for turn in example.contents]
        return self.count(base_model, contents, batch[0].resolution)
