"""`plan --count-tokens` end to end, on both backends: the backend's countTokens (the
emulator counts four characters a token, rounded up per text), batched, marked as counted."""

from __future__ import annotations

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
    assert f"# cost: {per_epoch * 3:,} training tokens, no price" in text.stdout
    markdown = repo.cli("plan", "--count-tokens", "--format", "markdown").stdout
    assert "counted by the backend" in markdown
