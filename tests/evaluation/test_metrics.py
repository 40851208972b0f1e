"""Scoring answers: each metric, normalisation, per-label precision and recall, the gate."""

from __future__ import annotations

import functools

import pytest

from gitops_tune.dataset import Example, Record, chat
from gitops_tune.evaluation import EvaluationSpec, Normalization, evaluate, judge, score
from gitops_tune.evaluation.metrics import correct

LOOSE = Normalization()
STRICT = Normalization(ignore_case=False, collapse_whitespace=False)


@pytest.mark.parametrize(
    ("metric", "answer", "expected", "norm", "right"),
    [
        ("exactMatch", " Billing ", "billing", LOOSE, True),
        ("exactMatch", " Billing ", "billing", STRICT, False),
        ("exactMatch", "billing.", "billing", Normalization(strip_punctuation=True), True),
        ("exactMatch", "billing.", "billing", LOOSE, False),
        ("contains", "It is about BILLING, clearly", "billing", LOOSE, True),
        ("contains", "It is about shipping", "billing", LOOSE, False),
        ("regex", "Order 1234", r"order \d+", LOOSE, True),
        ("regex", "Order 1234", r"order \d+", STRICT, False),
        ("regex", "Order 1234 now", r"order \d+", LOOSE, False),  # the whole answer
        ("labelAccuracy", "technical", "Technical", LOOSE, True),
    ],
)
def test_correct(metric: str, answer: str, expected: str, norm: Normalization, right: bool) -> None:
    assert correct(metric, answer, expected, norm) is right


def test_label_accuracy_has_precision_and_recall_per_label() -> None:
    pairs = [
        ("billing", "billing"),
        ("billing", "technical"),  # a technical ticket answered billing
        ("technical", "technical"),
        ("shipping", "account"),  # an answer outside the expected labels
    ]
    result = score("labelAccuracy", pairs, LOOSE)
    assert (result.correct, result.count, result.score) == (2, 4, 0.5)
    by_label = {x.label: x for x in result.labels}
    assert sorted(by_label) == ["account", "billing", "technical"]
    assert (by_label["billing"].precision, by_label["billing"].recall) == (0.5, 1.0)
    assert (by_label["technical"].precision, by_label["technical"].recall) == (1.0, 0.5)
    assert (by_label["account"].precision, by_label["account"].recall) == (None, 0.0)


def test_an_empty_set_scores_zero() -> None:
    assert score("exactMatch", [], LOOSE).score == 0.0


def _spec(**kw: object) -> EvaluationSpec:
    examples = [Example("Route: a", "x"), Example("Route: b", "y"), Example("Route: c", "z")]
    base: dict[str, object] = {
        "metric": "exactMatch",
        "normalization": LOOSE,
        "min_score": 0.6,
        "no_regression": False,
        "tolerance": 0.0,
        "data_fingerprint": "f" * 64,
        "count": 3,
        "shown": "held-out.jsonl",
        "examples": functools.partial(iter, examples),
    }
    return EvaluationSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_evaluate_asks_every_input_as_given_and_counts_tokens() -> None:
    asked: list[str] = []
    seen: list[tuple[int, int]] = []

    def ask(example: Record) -> tuple[str, int]:
        assert isinstance(example, Example)
        asked.append(example.text_input)
        return {"Route: a": "x", "Route: b": "Y ", "Route: c": "nope"}[example.text_input], 5

    result = evaluate(_spec(), ask, concurrency=2, progress=lambda d, t: seen.append((d, t)))
    assert sorted(asked) == ["Route: a", "Route: b", "Route: c"]  # the preamble as in training
    assert (result.correct, result.tokens) == (2, 15)
    assert sorted(seen) == [(1, 3), (2, 3), (3, 3)]


def test_a_chat_example_is_asked_its_turns_and_scored_on_its_last_model_turn() -> None:
    row = {
        "systemInstruction": {"parts": [{"text": "Route tickets."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "hello"}]},
            {"role": "model", "parts": [{"text": "what is it?"}]},
            {"role": "user", "parts": [{"text": "charged twice"}]},
            {"role": "model", "parts": [{"text": "billing"}]},
        ],
    }
    conversation = chat.parse(row, ())
    asked: list[Record] = []

    def ask(example: Record) -> tuple[str, int]:
        asked.append(example)
        return ("Billing" if len(asked) == 1 else "technical"), 7

    spec = _spec(examples=functools.partial(iter, [conversation, conversation]), count=2)
    result = evaluate(spec, ask, concurrency=1)
    assert asked == [conversation, conversation]
    assert (result.correct, result.count, result.tokens) == (1, 2, 14)


def test_judge_min_score_and_no_regression() -> None:
    assert judge(_spec(), 0.6, None).passed
    low = judge(_spec(), 0.5, None)
    assert not low.passed
    assert low.why == (
        "rejected at score 0.5000 < 0.6000 (minScore 0.60); change the data or the threshold"
    )
    gated = _spec(no_regression=True, tolerance=0.05)
    assert judge(gated, 0.86, 0.9).passed  # within tolerance
    assert not judge(gated, 0.84, 0.9).passed
    assert judge(gated, 0.6, None).passed  # nothing serves: minScore alone


def test_the_key_follows_the_set_and_metric_not_the_thresholds() -> None:
    assert _spec().key == _spec(min_score=0.9, no_regression=True).key
    assert _spec().key != _spec(metric="contains").key
    assert _spec().key != _spec(data_fingerprint="e" * 64).key
    assert _spec().key != _spec(normalization=STRICT).key
