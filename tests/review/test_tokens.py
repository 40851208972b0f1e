"""Training tokens counted by the backend: batching, retries, and the estimate when it cannot."""

from __future__ import annotations

from collections.abc import Sequence

from gitops_tune.dataset import Example
from gitops_tune.desired import DesiredModel
from gitops_tune.providers.base import ProviderError, TransientError
from gitops_tune.providers.retry import RetryPolicy
from gitops_tune.review.tokens import BackendCounter, batches, texts_of
from tests.factories import desired

FAST = RetryPolicy(attempts=3, base_s=0.0, cap_s=0.0)


def test_batches_keep_order_and_respect_both_limits() -> None:
    assert list(batches(["a", "b", "c"], max_texts=2)) == [["a", "b"], ["c"]]
    assert list(batches(["aaa", "bb", "c", "dddd"], max_chars=4)) == [
        ["aaa"],
        ["bb", "c"],
        ["dddd"],
    ]
    assert list(batches(["x" * 10, "y"], max_chars=4)) == [["x" * 10], ["y"]]  # alone
    assert list(batches([])) == []


def test_texts_are_every_input_with_its_preamble_and_every_output() -> None:
    m = desired(examples=lambda: iter([Example("Q: 1", "2"), Example("Q: 3", "4")]))
    assert list(texts_of(m)) == ["Q: 1", "2", "Q: 3", "4"]


class Backend:
    """Counts characters; fails ``flaky`` times transiently, or always with ``refuse``."""

    def __init__(self, flaky: int = 0, refuse: bool = False) -> None:
        self.flaky, self.refuse = flaky, refuse
        self.calls: list[tuple[str, int]] = []

    def __call__(self, base_model: str, texts: Sequence[str]) -> int:
        self.calls.append((base_model, len(texts)))
        if self.refuse:
            raise ProviderError("403 PERMISSION_DENIED", 403)
        if self.flaky:
            self.flaky -= 1
            raise TransientError("503", 503)
        return sum(len(t) for t in texts)


def many(n: int) -> DesiredModel:
    return desired(examples=lambda: iter([Example("ab", "cde")] * n))


def test_one_request_per_batch_not_per_example() -> None:
    backend = Backend()
    counter = BackendCounter(backend, FAST)
    assert counter(many(1_500)) == 1_500 * 5
    # 3,000 texts of 2 or 3 characters: batches of 1,000 texts
    assert [n for _, n in backend.calls] == [1_000, 1_000, 1_000]
    assert counter.requests == 3 and counter.problems == {}


def test_transient_failures_are_retried_per_batch() -> None:
    backend = Backend(flaky=2)
    counter = BackendCounter(backend, FAST)
    assert counter(many(10)) == 50
    assert len(backend.calls) == 3


def test_a_backend_that_cannot_count_leaves_the_estimate() -> None:
    counter = BackendCounter(Backend(refuse=True), FAST)
    m = many(10)
    assert counter(m) is None
    assert "403 PERMISSION_DENIED" in counter.problems[m.name]
