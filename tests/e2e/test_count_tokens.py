"""`plan --count-tokens` end to end, on both backends: the backend's countTokens (the
emulator counts four characters a token, rounded up per text), batched, marked as counted."""

from __future__ import annotations

import json
from typing import Any

from gitops_tune.emulator.server import RunningEmulator
from tests.e2e.conftest import Repo
from tests.harness import examples


def tokens(text: str) -> int:
    return -(-len(text) // 4)


def cost(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (model,) = [m for m in doc["review"]["models"] if m["name"] == name]
    found: dict[str, Any] = model["cost"]
    return found


def count_requests(emulator: RunningEmulator) -> int:
    stats = emulator.emulator.stats.snapshot()
    return sum(n for key, n in stats.items() if key.endswith(":countTokens"))


def test_plan_counts_training_tokens_with_the_backend(
    repo: Repo, emulator: RunningEmulator
) -> None:
    rows = examples(300, "question number ")
    repo.write(
        "alpha", preamble="Q: ", dataset={"examples": rows}, hyperparameters={"epochCount": 3}
    )
    per_epoch = sum(tokens("Q: " + r["text_input"]) + tokens(r["output"]) for r in rows)

    estimated = cost(repo.plan_json(), "alpha")
    assert estimated["estimated"] is True and count_requests(emulator) == 0

    counted = cost(repo.plan_json("--count-tokens"), "alpha")
    assert counted["estimated"] is False
    assert counted["training_tokens"] == per_epoch * 3 != estimated["training_tokens"]
    assert count_requests(emulator) == 1  # 600 texts, one batch

    text = repo.cli("plan", "--count-tokens")
    assert text.exit_code == 0, text.output
    # the shipped price table prices the Vertex AI base model (gemini-2.5-flash: $5 a million)
    price = f"${per_epoch * 3 * 5 / 1e6:,.2f}" if repo.vertex else "no price"
    assert f"# cost: {per_epoch * 3:,} training tokens, {price}" in text.stdout
    markdown = repo.cli("plan", "--count-tokens", "--format", "markdown").stdout
    assert "counted by the backend" in markdown


def test_status_shows_the_billed_tokens_next_to_the_estimate(
    repo: Repo, emulator: RunningEmulator
) -> None:
    rows = examples(40, "question number ")
    repo.write("alpha", dataset={"examples": rows}, hyperparameters={"epochCount": 2})
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    chars = sum(len(r["text_input"]) + len(r["output"]) for r in rows)
    estimate = -(-chars // 4) * 2
    doc = json.loads(repo.cli("status", "--format", "json").stdout)
    (model,) = doc["models"]
    text = repo.cli("status").stdout
    if not repo.vertex:  # the Gemini API reports no billed tokens
        assert (model["billable_tokens"], model["estimated_tokens"]) == (None, None)
        assert "TOKENS" not in text
        return
    # the emulator bills four characters a token per turn, times the epochs
    billed = sum(tokens(r["text_input"]) + tokens(r["output"]) for r in rows) * 2
    assert (model["billable_tokens"], model["estimated_tokens"]) == (billed, estimate)
    assert "TOKENS (BILLED / ESTIMATED)" in text
    assert f"{billed:,} / ~{estimate:,}" in text
