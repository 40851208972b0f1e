"""`plan --count-tokens` end to end, on both backends: the backend's countTokens (the
emulator counts four characters a token, rounded up per text), batched, marked as counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from tests.e2e.conftest import Repo, repo_for
from tests.e2e.test_chat import SYSTEM, image_example, jsonl, upload
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


def test_chat_examples_with_image_parts_are_counted_whole_on_vertex(tmp_path: Path) -> None:
    """The local estimate counts text only and says so; ``--count-tokens`` sends each example
    whole (its fileData parts, its system instruction) and the emulator counts an image at
    258 tokens ("Understand and count tokens"), four characters a token of text."""
    with start(EmulatorConfig(port=0)) as running:
        repo = repo_for("vertex", tmp_path, running)
        for i in range(20):
            upload(repo, f"images/{i}.png", b"\x89PNG" + bytes([i]), "image/png")
        rows = [{**image_example(i), "systemInstruction": SYSTEM} for i in range(20)]
        (repo.root / "receipts.jsonl").write_text(jsonl(rows))
        repo.write(
            "receipts", dataset={"path": "receipts.jsonl"}, hyperparameters={"epochCount": 2}
        )

        estimated = cost(repo.plan_json(), "receipts")
        assert estimated["estimated"] is True
        assert estimated["counts"] == "text only: media not estimated; use --count-tokens"
        assert "media not estimated; use --count-tokens" in repo.cli("plan").stdout

        counted = cost(repo.plan_json("--count-tokens"), "receipts")
        texts = [
            tokens("You route support tickets.")  # the system instruction
            + tokens(r["contents"][0]["parts"][1]["text"])
            + tokens(r["contents"][1]["parts"][0]["text"])
            for r in rows
        ]
        assert counted["estimated"] is False and "counts" not in counted
        assert counted["training_tokens"] == (sum(texts) + 20 * 258) * 2
        assert count_requests(running) == 1  # 20 images: one batch
