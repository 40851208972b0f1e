"""The review in the three renderers: a dataset diff against the base, findings (one
silenced) and cost, on a replaced model and a new one; exact lines, folded markdown, JSON."""

from __future__ import annotations

import dataclasses
import json

import jsonschema

from gitops_tune.errors import Location
from gitops_tune.plan import Plan
from gitops_tune.plan.schema import plan_schema
from gitops_tune.render import markdown, text, to_json
from gitops_tune.render import review as rv
from gitops_tune.review.model import (
    BaseChange,
    Cost,
    DatasetDiff,
    Finding,
    ModelReview,
    Review,
    Sample,
)
from tests.factories import desired, remote, run

DIFF = DatasetDiff(
    before=3,
    after=4,
    added=2,
    removed=1,
    changed=1,
    added_samples=(Sample("my card was charged twice", "billing"), Sample("where | is it", "x")),
    removed_samples=(Sample("old question", "shipping"),),
    changed_samples=(Sample("refund please", "billing", before="account"),),
    labels_before={"account": 1, "billing": 1, "shipping": 1},
    labels_after={"billing": 3, "shipping": 1},
)
REP = ModelReview(
    "rep",
    findings=(
        Finding("duplicate-example", "warning", "same as line 2", Location("data.jsonl", 4)),
        Finding(
            "conflicting-labels", "error", "2 outputs for one input", Location("data.jsonl", 7)
        ),
    ),
    silenced={"length-outlier": "long tickets are real"},
    cost=Cost(4_000, True, 5, 0.02, 5.0, "our contract"),
    base=BaseChange(
        "changed",
        DIFF,
        moved=("data/old.jsonl", "data/new.jsonl"),
        preamble=("Q: ", "Question: "),
        hyperparameters=(("epochCount", 3, 5),),
    ),
)
NEW = ModelReview("new", cost=Cost(1_200, False, 3, None), base=BaseChange("new"))
REVIEW = Review((NEW, REP), base="origin/main", base_commit="c0ffee")


def reviewed() -> Plan:
    p = run([desired("new"), desired("rep")], [remote("rep", fp="b" * 64)])
    return dataclasses.replace(p, review=REVIEW)


def test_text_lines_of_a_model_with_everything() -> None:
    assert rv.text_lines(REP, REVIEW) == [
        "data moved: data/old.jsonl -> data/new.jsonl",
        'preamble: "Q: " -> "Question: "',
        "hyperparameters.epochCount: 3 -> 5",
        "examples: 3 → 4 (+2 −1 ~1) since origin/main",
        '  + "my card was charged twice" -> "billing"',
        '  + "where | is it" -> "x"',
        '  - "old question" -> "shipping"',
        '  ~ "refund please": "account" -> "billing"',
        "labels: account 1→0, billing 1→3, shipping 1",
        "finding: data.jsonl:4: warning: same as line 2 [duplicate-example]",
        "finding: data.jsonl:7: 2 outputs for one input [conflicting-labels]",
        "silenced length-outlier: long tickets are real",
        "cost: ~4,000 training tokens, $0.02 ($5 per 1M tokens; our contract)",
    ]
    assert rv.text_lines(NEW, REVIEW) == [
        "new since origin/main",
        "cost: 1,200 training tokens, no price",
    ]


def test_the_text_plan_puts_them_under_each_model_and_totals_the_cost() -> None:
    out = text(reviewed())
    assert "      # examples: 3 → 4 (+2 −1 ~1) since origin/main" in out
    assert "      # cost: 1,200 training tokens, no price" in out
    # one estimate makes the total an estimate; one model without a price leaves no total
    assert "Training: ~5,200 tokens, no price for some base models." in out.splitlines()


def test_totals() -> None:
    priced = Review((ModelReview("a", cost=Cost(10, False, 1, 1.5)),))
    assert rv.total(priced) == "Training: 10 tokens, $1.50."
    assert rv.total(Review((NEW,))) == "Training: 1,200 tokens, no price."
    assert rv.total(Review((ModelReview("a"),))) is None
    assert rv.usd(0.001) == "under $0.01" and rv.usd(0) == "$0.00"


def test_markdown_row_cells_and_folded_details() -> None:
    assert rv.cells(REP) == (
        "3 → 4 (+2 −1 ~1)",
        "❌ 1 ⚠️ 1",
        "~4,000 training tokens, $0.02",
    )
    assert rv.cells(NEW) == ("new", "✅", "1,200 training tokens, no price")
    gone = ModelReview("gone", base=BaseChange("removed", manifest=("gone.yaml", "")))
    assert rv.cells(gone) == ("removed", "", "")
    same = ModelReview("same", cost=NEW.cost, base=BaseChange("unchanged"))
    assert rv.cells(same)[0] == "no change"
    assert rv.cells(None) == ("", "", "")
    block = rv.details(REP, REVIEW)
    assert block[0] == "<details>" and block[-2:] == ["</details>", ""]
    assert block[1] == (
        "<summary><code>rep</code>: examples 3 → 4 (+2 −1 ~1), 2 findings, "
        "~4,000 training tokens, $0.02</summary>"
    )
    body = "\n".join(block)
    assert "- examples: 3 → 4 (+2 −1 ~1) since `origin/main`" in body
    assert "- `where \\| is it` → `x`" in body  # a pipe cannot break the table
    assert "- `refund please`: `account` → `billing`" in body
    assert "- `data.jsonl:7` error `conflicting-labels`: 2 outputs for one input" in body
    assert "- silenced `length-outlier`: long tickets are real" in body
    assert (
        "**Cost**: ~4,000 training tokens, $0.02 (800 tokens × 5 epochs, estimated at four "
        "characters a token; $5 per 1M tokens, our contract)"
    ) in body
    counted = "\n".join(rv.details(NEW, REVIEW))
    assert "(400 tokens × 3 epochs, counted by the backend)" in counted


def test_the_markdown_plan_has_the_review_columns_and_details() -> None:
    out = markdown(reviewed())
    assert "| Examples | Findings | Cost |" in out
    row = next(line for line in out.splitlines() if "`rep`" in line and line.startswith("|"))
    assert " | 3 → 4 (+2 −1 ~1) | ❌ 1 ⚠️ 1 | ~4,000 training tokens, $0.02 | " in row
    assert "<summary><code>rep</code>: examples 3 → 4 (+2 −1 ~1), 2 findings," in out
    assert "<summary><code>new</code>: examples new, no findings, 1,200 training" in out


def test_the_json_plan_carries_the_review_and_matches_the_schema() -> None:
    doc = json.loads(to_json(reviewed()))
    jsonschema.validate(doc, plan_schema())
    review = doc["review"]
    assert (review["base"], review["base_commit"]) == ("origin/main", "c0ffee")
    assert review["total"] == {"training_tokens": 5_200, "usd": None, "evaluation_tokens": 0}
    new, rep = review["models"]
    assert new["cost"] == {
        "training_tokens": 1_200,
        "estimated": False,
        "epochs": 3,
        "usd": None,
        "usd_per_million_tokens": None,
        "price_source": None,
        "evaluation_tokens": 0,
        "evaluation_calls": 0,
    }
    assert rep["base"]["dataset"]["samples"]["changed"] == [
        {"text_input": "refund please", "output": "billing", "before": "account"}
    ]
    assert rep["base"]["dataset"]["labels"]["after"] == {"billing": 3, "shipping": 1}
    assert rep["findings"][1] == {
        "rule": "conflicting-labels",
        "severity": "error",
        "file": "data.jsonl",
        "line": 7,
        "message": "2 outputs for one input",
    }
    assert rep["silenced"] == [{"rule": "length-outlier", "reason": "long tickets are real"}]
    assert rep["base"]["hyperparameters"] == [
        {"path": "hyperparameters.epochCount", "before": 3, "after": 5}
    ]
