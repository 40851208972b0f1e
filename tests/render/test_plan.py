"""Renderers show the plan; they never decide anything."""

from __future__ import annotations

import json

import jsonschema

from gitops_tune.plan import Plan
from gitops_tune.plan.schema import plan_schema
from gitops_tune.providers.base import State
from gitops_tune.render import MARKDOWN_MARKER, markdown, text, to_json
from tests import ROOT
from tests.factories import desired, remote, run

SCHEMA_FILE = ROOT / "schemas" / "plan.schema.json"


def mixed_plan() -> Plan:
    old = remote("rep", fp="b" * 64, hyperparameters={"epochCount": 3})
    return run(
        [
            desired("new"),
            desired("rep"),
            desired("upd", display_name="Fresh | name"),
            desired("same"),
            desired("busy"),
        ],
        [
            old,
            remote("upd"),
            remote("same"),
            remote("busy", state=State.TRAINING),
            remote("gone"),
            remote("stopme", state=State.TRAINING),
        ],
    )


def test_text_uses_terraform_style_symbols_and_summary() -> None:
    out = text(mixed_plan())
    lines = out.splitlines()
    assert any(line.startswith("  + new ") and "create" in line for line in lines)
    assert any(line.startswith("  ± rep ") and "replace" in line for line in lines)
    assert any(line.startswith("  ~ upd ") for line in lines)
    assert any(line.startswith("  - gone ") for line in lines)
    assert any(line.startswith("  ⊘ stopme ") for line in lines)
    assert any(line.startswith("  … busy ") for line in lines)
    assert "~ hyperparameters.epochCount: 3 -> 5" in out
    assert '~ displayName: "upd" -> "Fresh | name"' in out
    assert lines[-1] == (
        "Plan: 1 to create, 1 to update, 1 to replace, 1 to cancel, 1 to delete."
        " (1 unchanged, 1 training)"
    )
    assert "\x1b[" not in out


def test_text_colour_only_when_asked() -> None:
    assert "\x1b[" in text(mixed_plan(), color=True)


def test_text_no_changes() -> None:
    out = text(run([desired()], [remote()]))
    assert "Remote models match the manifests." in out
    assert out.rstrip().endswith("No changes. (1 unchanged)")


def test_markdown_has_summary_table_and_collapsible_diffs() -> None:
    md = markdown(mixed_plan())
    assert md.startswith(MARKDOWN_MARKER + "\n### gitops-tune plan: workspace `demo` (local)")
    assert "| | Model | Action | Tuned model | Why |" in md
    assert "| `rep` | **replace** |" in md
    assert "<summary><code>rep</code>: replace" in md
    assert "| `hyperparameters.epochCount` | `3` | `5` |" in md
    assert "Fresh \\| name" in md  # pipes escaped inside table cells
    assert md.count("<details>") == md.count("</details>")


def test_json_plan_matches_committed_schema() -> None:
    doc = json.loads(to_json(mixed_plan()))
    assert doc["format_version"] == "4"
    jsonschema.Draft202012Validator(plan_schema()).validate(doc)
    names = [(c["name"], c["action"]) for c in doc["changes"]]
    assert ("rep", "replace") in names and ("stopme", "cancel") in names
    assert doc["summary"]["create"] == 1


def test_plan_schema_file_is_up_to_date() -> None:
    expected = json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n"
    assert SCHEMA_FILE.read_text() == expected, (
        "schemas/plan.schema.json is out of date: run `gitops-tune schema --plan > "
        "schemas/plan.schema.json`"
    )
