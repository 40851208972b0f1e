"""Training tokens and their price; the price table and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tune.errors import UserError
from gitops_tune.review.cost import cost, estimate_tokens, load_prices


def test_the_shipped_table_is_dated_and_sourced_and_guesses_no_price() -> None:
    table = load_prices(None)
    assert table.prices and all(p.source.startswith("https://") for p in table.prices)
    priced = {p.base_model: p.usd_per_million for p in table.prices if p.usd_per_million}
    assert priced == {"gemini-2.5-pro": 25, "gemini-2.5-flash": 5, "gemini-2.5-flash-lite": 1.5}
    for p in table.prices:  # every price says who quoted it; a price nobody quoted is null
        assert ("as quoted by" in p.source) == (p.usd_per_million is not None), p
    assert cost(400_000, 5, True, "gemini-2.5-flash", table).usd == 10.0
    assert cost(400_000, 5, True, "gemini-2.0-flash-001", table).usd is None
    text = (Path(__file__).parents[2] / "gitops_tune/review/prices.yaml").read_text()
    assert 'date: "2026-12-02"' in text


def test_estimate_and_price(tmp_path: Path) -> None:
    assert estimate_tokens(9) == 3  # about four characters a token, rounded up
    path = tmp_path / "p.yaml"
    path.write_text(
        "prices:\n  - {baseModel: gemini-2.5-flash, usdPerMillionTrainingTokens: 5, source: ours}\n"
        "  - {baseModel: gemini-2.5-flash-lite, usdPerMillionTrainingTokens: 1}\n"
    )
    table = load_prices(str(path))
    c = cost(100_000, 4, True, "gemini-2.5-flash-001", table)
    assert (c.tokens, c.usd, c.price_source) == (400_000, 2.0, "ours")
    lite = cost(1_000_000, 1, True, "models/gemini-2.5-flash-lite", table)
    assert lite.usd == 1.0 and lite.price_source == str(path)  # the longest match wins
    assert cost(10, 1, True, "gemini-9", table).usd is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prices: 3\n", "price table: a mapping with a list 'prices'"),
        ("prices:\n  - {usdPerMillionTrainingTokens: 1}\n", "prices[0]: needs baseModel"),
        ("prices:\n  - {baseModel: x, usdPerMillionTrainingTokens: -1}\n", "a number, 0 or more"),
        ("prices: [\n", "invalid YAML"),
    ],
)
def test_a_bad_table_is_one_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_prices(str(path))
    with pytest.raises(UserError, match="cannot read the price table"):
        load_prices(str(tmp_path / "missing.yaml"))


def test_evaluation_usage_counts_inputs_and_answers_per_pass() -> None:
    from gitops_tune.review.cost import evaluation_usage

    pairs = [("12345678", "abc"), ("x", "yyyyy")]  # 2 + 1, 1 + 2 tokens
    assert evaluation_usage(pairs, 1) == (6, 2)
    assert evaluation_usage(iter(pairs), 2) == (12, 4)  # noRegression: the serving model too
    assert evaluation_usage([], 2) == (0, 0)


def test_each_method_says_how_its_tokens_are_counted() -> None:
    from gitops_tune.review.cost import method_tokens

    rl = method_tokens("reinforcement", '{"samplesPerPrompt": 4}', 400)
    assert rl[0] == 400  # 100 prompt tokens x 4 samples
    assert "samplesPerPrompt 4" in rl[1] and "not counted" in rl[1]
    assert method_tokens("reinforcement", "{}", 400)[0] == 100
    assert method_tokens("preference", "{}", 400) == (
        100,
        "preference: the prompt and both completions",
    )
    assert "teacher" in method_tokens("distillation", "{}", 400)[1]
