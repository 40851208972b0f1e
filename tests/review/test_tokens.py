"""Training tokens counted by the backend: batching, retries, and the estimate when it cannot."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gitops_tune.dataset import Example, chat, file_source
from gitops_tune.dataset.records import token_texts
from gitops_tune.desired import DesiredModel
from gitops_tune.providers.base import ProviderError, TransientError
from gitops_tune.providers.retry import RetryPolicy
from gitops_tune.review import rules
from gitops_tune.review.tokens import BackendCounter, batches, texts_of
from tests.conftest import Tree
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


CHAT = {
    "systemInstruction": {"role": "system", "parts": [{"text": "You route tickets."}]},
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": "I was charged twice"},
                {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/receipt.png"}},
            ],
        },
        {"role": "model", "parts": [{"text": "billing"}]},
        {"role": "user", "parts": [{"text": "and again"}]},
        {"role": "model", "parts": [{"text": "billing, escalated"}]},
    ],
}
CHAT_TEXTS = ["You route tickets.", "I was charged twice", "billing", "and again"]
CHAT_TEXTS.append("billing, escalated")


def test_chat_tokens_come_from_its_text_parts_not_its_json(tree: Tree) -> None:
    """The estimate (`plan`'s cost, the limits check, `status`) and `--count-tokens` see the
    same text: the system instruction and every turn's text parts; no JSON syntax, roles or
    fileData URIs (media parts are not estimated)."""
    conversation = chat.parse(CHAT, ())
    assert list(token_texts(conversation)) == CHAT_TEXTS
    chars = sum(len(t) for t in CHAT_TEXTS)
    assert conversation.chars == chars
    m = desired(examples=lambda: iter([conversation, Example("Q: 1", "2")]))
    assert list(texts_of(m)) == [*CHAT_TEXTS, "Q: 1", "2"]
    tree.jsonl("d.jsonl", [CHAT, {"text_input": "Q: 1", "output": "2"}])
    _, n, counted = rules.check(file_source("d.jsonl", "d.jsonl"), "", "other")
    assert (n, counted) == (2, chars + len("Q: 1") + len("2"))
    assert counted < len(json.dumps(CHAT)) / 2  # the JSON would have doubled the estimate
