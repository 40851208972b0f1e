"""Every data-quality rule: a dataset that triggers it and one that does not, through the
rules directly and through `validate` (silencing, --strict)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from gitops_tune.dataset import file_source
from gitops_tune.review import rules
from gitops_tune.review.rules import RULES
from tests import ROOT
from tests.conftest import Tree, tuned_model


def found(
    tree: Tree,
    data: list[dict[str, str]],
    *,
    preamble: str = "",
    task: str = "other",
    validation: list[dict[str, str]] | None = None,
) -> list[str]:
    tree.jsonl("d.jsonl", data)
    val = None
    if validation is not None:
        tree.jsonl("v.jsonl", validation)
        val = file_source("v.jsonl", "v.jsonl")
    findings, _, _ = rules.check(file_source("d.jsonl", "d.jsonl"), preamble, task, val)
    return [str(f) for f in findings]


def varied(n: int = 40) -> list[dict[str, str]]:
    """Distinct inputs of similar length, outputs spread over four labels evenly."""
    labels = ("billing", "shipping", "account", "technical")
    return [
        {"text_input": f"message {i:03d} from a customer", "output": labels[i % 4]}
        for i in range(n)
    ]


def test_a_clean_dataset_has_no_findings(tree: Tree) -> None:
    assert found(tree, varied(), validation=[{"text_input": "held out", "output": "billing"}]) == []


def test_duplicate_example(tree: Tree) -> None:
    data = varied()
    data.append(dict(data[2]))
    assert found(tree, data) == [
        "d.jsonl:41: warning: duplicate of the example at d.jsonl:3 [duplicate-example]"
    ]


def test_conflicting_labels(tree: Tree) -> None:
    data = varied()
    data.append({"text_input": data[0]["text_input"], "output": "shipping"})
    assert found(tree, data) == [
        "d.jsonl:41: warning: the same input as d.jsonl:1 with a different output"
        " [conflicting-labels]"
    ]


def test_validation_leakage(tree: Tree) -> None:
    leaked = [{"text_input": "message 007 from a customer", "output": "technical"}]
    assert found(tree, varied(), validation=leaked) == [
        "v.jsonl:1: warning: this validation input is also a training input (d.jsonl:8)"
        " [validation-leakage]"
    ]


def test_preamble_in_input(tree: Tree) -> None:
    data = varied()
    assert found(tree, data, preamble="Route: ") == []
    data[5] = {"text_input": "Route: message 005 from a customer", "output": "shipping"}
    assert found(tree, data, preamble="Route: ") == [
        "d.jsonl:6: warning: the input already starts with the preamble, which is prepended"
        " again [preamble-in-input]"
    ]


def test_length_outlier(tree: Tree) -> None:
    data = varied()
    data[9] = {"text_input": "x" * 2000, "output": "billing"}
    assert found(tree, data) == [
        "d.jsonl:10: warning: 2,007 characters; the dataset's median is 34 [length-outlier]"
    ]


def test_a_few_longer_examples_are_not_outliers(tree: Tree) -> None:
    data = varied()
    data[9] = {
        "text_input": "message 009 from a customer, twice as long as most",
        "output": "billing",
    }
    assert found(tree, data) == []


def test_label_imbalance(tree: Tree) -> None:
    data = [{"text_input": f"note {i}", "output": "billing"} for i in range(90)]
    data += [{"text_input": f"other {i}", "output": "shipping"} for i in range(10)]
    assert found(tree, data) == [
        "d.jsonl:1: warning: label 'billing' is 90 of 100 examples (90.0%, over 80%)"
        " [label-imbalance]"
    ]
    data = data[:-10] + [{"text_input": f"other {i}", "output": "shipping"} for i in range(30)]
    data = data[30:]  # 60 billing, 30 shipping: 66.7% and 33.3%
    assert found(tree, data) == []


def test_a_rare_label(tree: Tree) -> None:
    data = varied(100)
    data[0] = {**data[0], "output": "legal"}
    assert "label 'legal' is 1 of 100 examples (1.0%, under 2%)" in found(tree, data)[0]


def test_mixed_input_format(tree: Tree) -> None:
    data = [{"text_input": f"question: what is {i}?", "output": f"{i}"} for i in range(30)]
    assert found(tree, data) == []
    data[4] = {"text_input": "what is 4?", "output": "4"}
    data[7] = {"text_input": "Q: what is 7?", "output": "7"}
    assert found(tree, data) == [
        "d.jsonl:5: warning: 2 of 30 inputs do not start with 'question:' as the others do"
        " (lines 5, 8) [mixed-input-format]"
    ]


def test_a_rule_lists_five_lines_then_counts_the_rest(tree: Tree) -> None:
    data = varied() + [dict(r) for r in varied()[:8]]
    out = found(tree, data)
    assert (
        len(out) == 6
        and out[-1] == "d.jsonl:45: warning: ... and 3 more like it [duplicate-example]"
    )


def test_every_rule_is_documented() -> None:
    doc = (ROOT / "docs" / "data-quality.md").read_text()
    for code in [*RULES, "empty-output"]:
        assert f"`{code}`" in doc, code


# --- through validate -------------------------------------------------------------------------


def validate(*args: str) -> Result:
    return CliRunner().invoke(main, ["validate", *args])


def test_validate_reports_findings_and_strict_fails(tree: Tree) -> None:
    tree.write("m.yaml", tuned_model("m", path="d.jsonl", extra_spec="  task: classification\n"))
    data = varied(120)
    data.append(dict(data[0]))
    tree.jsonl("d.jsonl", data)
    ok = validate(".")
    assert ok.exit_code == 0
    assert (
        "d.jsonl:121: warning: duplicate of the example at d.jsonl:1 [duplicate-example]"
        in ok.stdout
    )
    assert validate(".", "--strict").exit_code == 1
    doc = json.loads(validate(".", "--format", "json").stdout)
    assert doc["models"][0]["findings"] == [
        {
            "rule": "duplicate-example",
            "severity": "warning",
            "file": "d.jsonl",
            "line": 121,
            "message": "duplicate of the example at d.jsonl:1",
        }
    ]


def test_a_rule_is_silenced_per_manifest_with_a_reason(tree: Tree) -> None:
    ignore = (
        "  review:\n    ignore:\n      - rule: duplicate-example\n"
        "        reason: repeated on purpose, to weigh this case\n"
    )
    tree.write("m.yaml", tuned_model("m", path="d.jsonl", extra_spec=ignore))
    data = varied(120)
    data.append(dict(data[0]))
    tree.jsonl("d.jsonl", data)
    result = validate(".", "--strict")
    assert result.exit_code == 0, result.output
    doc = json.loads(validate(".", "--format", "json").stdout)
    assert doc["models"][0]["findings"] == []
    assert doc["models"][0]["silenced"] == [
        {"rule": "duplicate-example", "reason": "repeated on purpose, to weigh this case"}
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("      - rule: no-such-rule\n        reason: x\n", "spec.review.ignore[0].rule"),
        (
            "      - rule: duplicate-example\n",
            "spec.review.ignore[0].reason: required field is missing",
        ),
    ],
)
def test_a_bad_ignore_entry_is_an_error_at_its_key(tree: Tree, entry: str, message: str) -> None:
    tree.write("m.yaml", tuned_model("m", extra_spec="  review:\n    ignore:\n" + entry))
    result = validate(".")
    assert result.exit_code == 1
    assert message in result.stderr


def test_empty_output_is_an_error(tree: Tree) -> None:
    tree.write("m.yaml", tuned_model("m", path="d.jsonl"))
    data = varied(30)
    tree.jsonl("d.jsonl", data)
    assert validate(".").exit_code == 0
    data[2] = {**data[2], "output": "   "}
    tree.jsonl("d.jsonl", data)
    result = validate(".")
    assert result.exit_code == 1
    assert "d.jsonl:3: output is only whitespace [empty-output]" in result.stderr
