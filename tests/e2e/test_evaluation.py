"""The evaluation gate end to end, on both backends: a new model serves (and the old one
retires) only when it scores enough on a held-out set. The emulator's tuned models answer
with the output of the nearest training example, so a model trained on mislabelled data
really answers wrong; the emulator's ``degrade_models`` switch makes a model answer wrong
whatever its data."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from gitops_tune.gatekeeper import Gatekeeper
from tests.e2e.conftest import Repo, counted_prompts
from tests.harness import request_json

TOPICS = {"billing": "I was charged twice on invoice", "technical": "the app crashes with error"}


def tickets(n: int = 10, swap: bool = False) -> list[dict[str, str]]:
    """``n`` tickets a label; ``swap``: every label wrong (a bad data change)."""
    labels = list(TOPICS)
    return [
        {"text_input": f"{TOPICS[label]} {i}", "output": labels[(k + swap) % 2]}
        for k, label in enumerate(labels)
        for i in range(n)
    ]


HELD_OUT = [
    {"text_input": f"{TOPICS[label]} {i}", "output": label} for label in TOPICS for i in (70, 81)
]


def gated(repo: Repo, data: list[dict[str, str]], **gate: Any) -> None:
    evaluation = {"dataset": {"examples": HELD_OUT}, "metric": "labelAccuracy", **gate}
    repo.write("alpha", dataset={"examples": data}, evaluation=evaluation)


def served(repo: Repo) -> str:
    result = repo.cli("output", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    model: str = json.loads(result.stdout)["models"]["alpha"]["model"]
    return model


def test_a_passing_model_is_promoted(repo: Repo) -> None:
    gated(repo, tickets(), minScore=0.8)
    plan = repo.cli("plan")
    # 4 held-out calls of 11 tokens: "I was charged twice on invoice 70" (33 characters, 9
    # tokens) + "billing" (2); "the app crashes with error 70" (8) + "technical" (3)
    assert "evaluation ~44 inference tokens (4 calls), not priced" in plan.stdout, plan.output
    assert "Evaluation: ~44 inference tokens, not priced." in plan.stdout
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert "evaluating" in result.output
    first = served(repo)
    status = repo.cli("status")
    assert "1.0000 passed" in status.stdout, status.output

    gated(repo, tickets(11), minScore=0.8)  # more good data: a replacement that passes
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert served(repo) != first
    assert len(repo.models()) == 1  # the old model retired once the new one passed
    plan = repo.cli("plan")
    assert "scores 1.0000; gate: minScore 0.80" in plan.stdout, plan.output


def degrade(repo: Repo, *names: str) -> None:
    """The emulator's switch: these tuned models (or "all") answer wrongly from now on."""
    request_json(repo.url, "POST", "_emulator/config", {"degrade_models": list(names)})


def test_a_worse_model_is_rejected_and_the_old_one_keeps_serving(repo: Repo) -> None:
    gated(repo, tickets(), minScore=0.8)
    assert repo.apply("--wait").exit_code == 0
    before, models = served(repo), repo.ids()

    degrade(repo, "all")  # every model trained from now on answers wrongly
    gated(repo, tickets(11), minScore=0.8)
    result = repo.apply("--wait")
    assert result.exit_code == 1, result.output
    assert "rejected at score 0.0000 < 0.8000" in result.output
    assert "billing precision/recall" in result.output  # the per-label table
    assert served(repo) == before  # `output` unchanged
    assert set(models) < set(repo.ids()) and len(repo.ids()) == 2  # nothing deleted

    plan = repo.cli("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output  # nothing apply could do
    assert "rejected at score 0.0000 < 0.8000" in plan.stdout
    assert "change the data or the threshold" in plan.stdout
    again = repo.apply()
    assert again.exit_code == 1 and "rejected" in again.output  # still not serving

    gated(repo, tickets(swap=True), minScore=0.0, noRegression=False)  # invalid: gates nothing
    assert repo.cli("validate").exit_code == 1


def test_mislabelled_data_is_rejected_too(repo: Repo) -> None:
    """No switch: a model trained on swapped labels really answers wrong."""
    gated(repo, tickets(), minScore=0.8)
    assert repo.apply("--wait").exit_code == 0
    before = served(repo)
    gated(repo, tickets(swap=True), minScore=0.8)
    result = repo.apply("--wait")
    assert result.exit_code == 1, result.output
    assert "rejected at score 0.0000 < 0.8000" in result.output
    assert served(repo) == before


def test_no_regression_compares_with_the_serving_model(repo: Repo) -> None:
    gated(repo, tickets(), minScore=0.3, noRegression=True, tolerance=0.1)
    assert repo.apply("--wait").exit_code == 0
    before = served(repo)
    half = tickets()[:10] + [
        {"text_input": f"{TOPICS['technical']} {i}", "output": "billing"} for i in range(10)
    ]
    gated(repo, half, minScore=0.3, noRegression=True, tolerance=0.1)
    result = repo.apply("--wait")
    assert result.exit_code == 1, result.output
    assert "rejected at score 0.5000 < 0.9000 (the serving model's 1.0000 - tolerance 0.1)" in (
        result.output
    )
    assert served(repo) == before


def test_a_crash_after_scoring_is_repaired_without_asking_again(repo: Repo) -> None:
    gated(repo, tickets(), minScore=0.8)
    assert repo.apply("--wait").exit_code == 0
    gated(repo, tickets(11), minScore=0.8)
    real = Gatekeeper.check

    def crash(self: Gatekeeper, *args: Any) -> Any:
        real(self, *args)
        raise SystemExit("killed between scoring and promotion")

    with patch.object(Gatekeeper, "check", crash):
        assert repo.apply("--wait").exit_code != 0
    assert len(repo.models()) == 2  # scored, not promoted

    with counted_prompts() as asked:
        result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert asked == []  # the scores in the marker were used
    assert len(repo.models()) == 1
