"""Training tokens counted by the backend: batching, retries, and the estimate when it cannot."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_tune.dataset import Example, chat, file_source
from gitops_tune.dataset.records import TokenExample, token_example, token_texts
from gitops_tune.desired import DesiredModel
from gitops_tune.providers.base import ProviderError, TransientError
from gitops_tune.providers.retry import RetryPolicy
from gitops_tune.review import rules
from gitops_tune.review.tokens import BackendCounter, batches, examples_of
from tests.conftest import Tree
from tests.factories import desired

FAST = RetryPolicy(attempts=3, base_s=0.0, cap_s=0.0)


def pair(i: str, o: str) -> TokenExample:
    return token_example(Example(i, o))


def test_batches_keep_order_and_respect_every_limit() -> None:
    a, b, c = pair("a", "1"), pair("b", "2"), pair("c", "3")
    assert list(batches([a, b, c], max_parts=4)) == [[a, b], [c]]
    aaa, bb, d = pair("aa", "a"), pair("b", "b"), pair("dddd", "d")
    assert list(batches([aaa, bb, d], max_chars=4)) == [[aaa], [bb], [d]]
    big = pair("x" * 10, "y")
    assert list(batches([big, a], max_chars=4)) == [[big], [a]]  # alone
    assert list(batches([pair("", ""), a])) == [[a]]  # nothing to send
    assert list(batches([])) == []


def test_media_recordings_and_resolutions_split_batches() -> None:
    image = chat.parse(_with_part(CHAT, file_part("image/png")), RESOLUTIONS)
    video = chat.parse(_with_part(CHAT, file_part("video/mp4")), RESOLUTIONS)
    low = chat.parse({**CHAT, "generationConfig": {"mediaResolution": LOW}}, RESOLUTIONS)
    i, v, lo = token_example(image), token_example(video), token_example(low)
    assert (i.media, i.recordings, v.media, v.recordings) == (2, 0, 2, 1)
    assert list(batches([i, i, i], max_media=4)) == [[i, i], [i]]
    assert list(batches([v, i, v, v])) == [[v, i], [v], [v]]  # one recording a batch
    assert lo.resolution == LOW
    assert list(batches([i, lo, lo, i])) == [[i], [lo, lo], [i]]


def test_examples_are_sent_whole() -> None:
    m = desired(examples=lambda: iter([Example("Q: 1", "2"), Example("", "4")]))
    assert [e.contents for e in examples_of(m)] == [
        (
            {"role": "user", "parts": [{"text": "Q: 1"}]},
            {"role": "model", "parts": [{"text": "2"}]},
        ),
        ({"role": "model", "parts": [{"text": "4"}]},),  # an empty text is not sent
    ]


class Backend:
    """Counts characters of text; fails ``flaky`` times transiently, or always with
    ``refuse``."""

    def __init__(self, flaky: int = 0, refuse: bool = False) -> None:
        self.flaky, self.refuse = flaky, refuse
        self.calls: list[tuple[str, int]] = []
        self.sent: list[tuple[list[Mapping[str, Any]], str | None]] = []

    def __call__(
        self, base_model: str, contents: Sequence[Mapping[str, Any]], resolution: str | None
    ) -> int:
        parts = [p for c in contents for p in c["parts"]]
        self.calls.append((base_model, len(parts)))
        self.sent.append((list(contents), resolution))
        if self.refuse:
            raise ProviderError("403 PERMISSION_DENIED", 403)
        if self.flaky:
            self.flaky -= 1
            raise TransientError("503", 503)
        return sum(len(p.get("text", "")) for p in parts)


def many(n: int) -> DesiredModel:
    return desired(examples=lambda: iter([Example("ab", "cde")] * n))


def test_one_request_per_batch_not_per_example() -> None:
    backend = Backend()
    counter = BackendCounter(backend, FAST)
    assert counter(many(1_500)) == 1_500 * 5
    # 3,000 parts of 2 or 3 characters: batches of 1,000 parts
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
LOW = "MEDIA_RESOLUTION_LOW"
RESOLUTIONS = (LOW, "MEDIA_RESOLUTION_HIGH")


def file_part(mime: str) -> dict[str, Any]:
    return {"fileData": {"mimeType": mime, "fileUri": "gs://b/x"}}


def test_chat_tokens_come_from_its_text_parts_not_its_json(tree: Tree) -> None:
    """The estimate (`plan`'s cost, the limits check, `status`) sees the text: the system
    instruction and every turn's text parts; no JSON syntax, roles or fileData URIs (media
    parts are not estimated)."""
    conversation = chat.parse(CHAT, ())
    assert list(token_texts(conversation)) == CHAT_TEXTS
    chars = sum(len(t) for t in CHAT_TEXTS)
    assert conversation.chars == chars
    tree.jsonl("d.jsonl", [CHAT, {"text_input": "Q: 1", "output": "2"}])
    _, n, counted = rules.check(file_source("d.jsonl", "d.jsonl"), "", "other")
    assert (n, counted) == (2, chars + len("Q: 1") + len("2"))
    assert counted < len(json.dumps(CHAT)) / 2  # the JSON would have doubled the estimate


def test_a_chat_example_is_counted_whole_its_system_instruction_leading() -> None:
    """``--count-tokens`` sends the turns with their fileData parts; the system instruction's
    text leads the first user turn (one request holds many examples, each trained with its
    own instruction); a part's mediaResolution goes as the request's."""
    row = _with_part(CHAT, {**file_part("image/png"), "mediaResolution": {"level": LOW}})
    conversation = chat.parse(row, RESOLUTIONS)
    backend = Backend()
    m = desired(examples=lambda: iter([conversation, Example("Q: 1", "2")]))
    assert BackendCounter(backend, FAST)(m) == sum(len(t) for t in CHAT_TEXTS) + 5
    (sent, resolution), (pair_sent, no_resolution) = backend.sent  # resolutions differ
    assert (resolution, no_resolution) == (LOW, None)
    assert [t["role"] for t in pair_sent] == ["user", "model"]
    first = sent[0]["parts"]
    assert first[0] == {"text": "You route tickets."}
    assert first[2] == {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/receipt.png"}}
    assert first[3] == file_part("image/png")  # no mediaResolution in the part
    assert [t["role"] for t in sent] == ["user", "model", "user", "model"]


def _with_part(row: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    contents = json.loads(json.dumps(row["contents"]))
    contents[0]["parts"].append(part)
    return {**row, "contents": contents}
