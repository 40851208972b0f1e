"""The data-quality rules on the rows of the tuning methods beyond supervised tuning: each
rule runs on the methods `rules.METHODS` names, with a row's prompt as its input and what it
is judged by as its output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gitops_tune.cli import main
from gitops_tune.dataset import file_source
from gitops_tune.review import rules
from tests import ROOT
from tests.conftest import Tree
from tests.e2e.test_vertex_methods import preference_rows, rl_rows


def findings(
    tree: Tree,
    method: str,
    data: list[dict[str, Any]],
    validation: list[dict[str, Any]] | None = None,
) -> tuple[list[str], int, int]:
    tree.jsonl("d.jsonl", data)
    val = None
    if validation is not None:
        tree.jsonl("v.jsonl", validation)
        val = file_source("v.jsonl", "v.jsonl")
    found, n, chars = rules.check(file_source("d.jsonl", "d.jsonl"), "", "other", val, method)
    return [str(f) for f in found], n, chars


def prompts(n: int = 24) -> list[dict[str, Any]]:
    return [
        {"contents": [{"role": "user", "parts": [{"text": f"Explain rule {i}."}]}]}
        for i in range(n)
    ]


def test_method_rows_are_read_not_skipped(tree: Tree) -> None:
    for method, data in (
        ("preference", preference_rows(24)),
        ("reinforcement", rl_rows(24)),
        ("distillation", prompts()),
    ):
        found, n, chars = findings(tree, method, data)
        assert (found, n) == ([], 24), method
        assert chars > 0


def test_a_repeated_preference_row_is_a_duplicate(tree: Tree) -> None:
    data = preference_rows(24)
    data.append(dict(data[3]))
    found, _, _ = findings(tree, "preference", data)
    assert found == [
        "d.jsonl:25: warning: duplicate of the example at d.jsonl:4 [duplicate-example]"
    ]


def test_a_preference_prompt_with_another_pair_is_no_conflict(tree: Tree) -> None:
    data = preference_rows(24)
    other = json.loads(json.dumps(data[3]))
    other["completions"][1]["completion"]["parts"][0]["text"] = "whatever"
    data.append(other)
    assert findings(tree, "preference", data)[0] == []


def test_a_reinforcement_prompt_with_other_references_conflicts(tree: Tree) -> None:
    data = rl_rows(24)
    data.append({**data[5], "references": {"answer": "11", "label": "sum"}})
    found, _, _ = findings(tree, "reinforcement", data)
    assert found == [
        "d.jsonl:25: warning: the same input as d.jsonl:6 with a different output "
        "[conflicting-labels]"
    ]


def test_a_repeated_distillation_prompt_is_a_duplicate_and_leaks(tree: Tree) -> None:
    data = prompts()
    data.append(dict(data[0]))
    found, _, _ = findings(tree, "distillation", data, validation=[data[1]])
    assert found == [
        "d.jsonl:25: warning: duplicate of the example at d.jsonl:1 [duplicate-example]",
        "v.jsonl:1: warning: this validation input is also a training input (d.jsonl:2) "
        "[validation-leakage]",
    ]


def test_a_long_preference_row_is_a_length_outlier(tree: Tree) -> None:
    data = preference_rows(24)
    data[7]["completions"][0]["completion"]["parts"][0]["text"] = "very long reply " * 200
    found, _, _ = findings(tree, "preference", data)
    assert len(found) == 1 and found[0].startswith("d.jsonl:8: warning: "), found
    assert found[0].endswith("[length-outlier]")


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_every_rule_says_which_methods_it_runs_on(rule: str) -> None:
    doc = (ROOT / "docs" / "data-quality.md").read_text()
    row = next(line for line in doc.splitlines() if line.startswith(f"| `{rule}` |"))
    said = row.split(" | ")[3]
    expected = ", ".join(m or "supervised" for m in rules.METHODS[rule])
    assert said == expected, row


def test_validate_reports_a_finding_in_the_methods_example(tmp_path: Path) -> None:
    tree = tmp_path / "methods"
    shutil.copytree(ROOT / "examples-vertex-methods", tree)
    data = tree / "data" / "preferences.jsonl"
    first = data.read_text().splitlines()[0]
    data.write_text(data.read_text() + first + "\n")
    result = CliRunner().invoke(main, ["validate", str(tree)], env={"GITOPS_TUNE_BACKEND": None})
    assert result.exit_code == 0, result.output
    line = next(t for t in result.output.splitlines() if "[duplicate-example]" in t)
    assert line.startswith(f"{data}:21: warning: duplicate of the example at {data}:1"), line
