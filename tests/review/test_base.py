"""`plan --base REF` end to end: a temporary git repository, commits that add, remove and
change examples, move a dataset, rename or split a manifest; the real CLI on the local
backend, the JSON plan's review checked exactly."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from tests import ROOT
from tests.conftest import Tree, rows, tuned_model

WORKSPACE = (
    "---\napiVersion: gitops-tune/v1\nkind: Workspace\nmetadata:\n  name: rev\n"
    "spec:\n  backend: local\n"
)


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
    }
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, check=True)
    return done.stdout.decode()


@pytest.fixture
def repo(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> Tree:
    monkeypatch.setenv("GITOPS_TUNE_HOME", str(tree.root / ".gitops-tune"))
    monkeypatch.setenv("GITOPS_TUNE_LOCAL_TRAIN_SECONDS", "1")
    git(tree.root, "init", "-q", "-b", "main")
    tree.write(".gitignore", ".gitops-tune/\n")
    return tree


def commit(tree: Tree, message: str = "c") -> None:
    git(tree.root, "add", "-A")
    git(tree.root, "commit", "-q", "-m", message)


def plan(*args: str) -> Result:
    return CliRunner().invoke(main, ["plan", "--format", "json", *args])


def review(*args: str) -> dict[str, Any]:
    result = plan(*args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)["review"]
    return doc


def model(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in doc["models"] if m["name"] == name)
    return found


def ticket(i: int, label: str = "billing") -> dict[str, str]:
    return {"text_input": f"ticket number {i} about my account", "output": label}


def test_added_removed_and_changed_examples(repo: Tree) -> None:
    repo.write("m.yaml", tuned_model("m", path="data/m.jsonl") + WORKSPACE)
    data = [ticket(i, ("billing", "shipping")[i % 2]) for i in range(30)]
    repo.jsonl("data/m.jsonl", data)
    commit(repo)
    head = [r for i, r in enumerate(data) if i != 3]
    head[4] = {**head[4], "output": "refund"}  # ticket 5: shipping -> refund
    head += [ticket(100), ticket(101, "shipping")]
    repo.jsonl("data/m.jsonl", head)
    doc = review("--base", "main", "--show-examples", "1")
    assert doc["base"] == "main" and len(doc["base_commit"]) == 40
    base = model(doc, "m")["base"]
    assert base["status"] == "changed"
    d = base["dataset"]
    assert (d["before"], d["after"], d["added"], d["removed"], d["changed"]) == (30, 31, 2, 1, 1)
    assert d["samples"] == {
        "added": [{"text_input": "ticket number 100 about my account", "output": "billing"}],
        "removed": [{"text_input": "ticket number 3 about my account", "output": "shipping"}],
        "changed": [
            {
                "text_input": "ticket number 5 about my account",
                "output": "refund",
                "before": "shipping",
            }
        ],
    }
    assert d["labels"] == {
        "before": {"billing": 15, "shipping": 15},
        "after": {"billing": 16, "refund": 1, "shipping": 14},
    }
    assert base["moved"] is None and base["manifest"] is None


def test_the_json_plan_with_its_review_matches_the_schema(repo: Tree) -> None:
    repo.write("m.yaml", tuned_model("m", path="d.jsonl") + WORKSPACE)
    repo.jsonl("d.jsonl", rows(25))
    commit(repo)
    repo.jsonl("d.jsonl", [*rows(24), {"text_input": "x", "output": "y"}])
    result = plan("--base", "main")
    assert result.exit_code == 0, result.output
    schema = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
    jsonschema.validate(json.loads(result.stdout), schema)


def test_the_markdown_and_text_plans_show_the_diff(repo: Tree) -> None:
    repo.write("m.yaml", tuned_model("m", path="d.jsonl") + WORKSPACE)
    repo.jsonl("d.jsonl", rows(25))
    commit(repo)
    repo.jsonl("d.jsonl", [*rows(25), {"text_input": "new input", "output": "new output"}])
    md = CliRunner().invoke(main, ["plan", "--base", "main", "--format", "markdown"])
    assert md.exit_code == 0, md.output
    assert "| Examples | Findings | Cost |" in md.stdout
    assert "| 25 → 26 (+1 −0 ~0) |" in md.stdout
    assert "<summary><code>m</code>: examples 25 → 26 (+1 −0 ~0)" in md.stdout
    assert "- `new input` → `new output`" in md.stdout
    text = CliRunner().invoke(main, ["plan", "--base", "main"])
    assert '      #   + "new input" -> "new output"' in text.stdout
    assert "      # examples: 25 → 26 (+1 −0 ~0) since main" in text.stdout


def test_a_dataset_moved_to_another_file(repo: Tree) -> None:
    repo.write("m.yaml", tuned_model("m", path="a.jsonl") + WORKSPACE)
    repo.jsonl("a.jsonl", rows(25))
    commit(repo)
    git(repo.root, "mv", "a.jsonl", "b.jsonl")
    repo.write("m.yaml", tuned_model("m", path="b.jsonl") + WORKSPACE)
    base = model(review("--base", "main"), "m")["base"]
    assert base["status"] == "changed"
    assert base["moved"] == ["a.jsonl", "b.jsonl"]
    d = base["dataset"]
    assert (d["before"], d["after"], d["added"], d["removed"], d["changed"]) == (25, 25, 0, 0, 0)


def test_a_renamed_and_split_manifest(repo: Tree) -> None:
    both = tuned_model("a", examples=20) + "---\n" + tuned_model("b", examples=21) + WORKSPACE
    repo.write("all.yaml", both)
    commit(repo)
    os.remove(repo.root / "all.yaml")
    repo.write("models/a.yaml", tuned_model("a", examples=20) + WORKSPACE)
    repo.write("models/b.yaml", tuned_model("b", examples=22))
    doc = review("--base", "main")
    a, b = model(doc, "a")["base"], model(doc, "b")["base"]
    assert a["status"] == "changed" and a["manifest"] == ["all.yaml", "models/a.yaml"]
    assert a["dataset"]["added"] == 0 and a["dataset"]["removed"] == 0
    assert b["manifest"] == ["all.yaml", "models/b.yaml"]
    assert (b["dataset"]["before"], b["dataset"]["after"], b["dataset"]["added"]) == (21, 22, 1)
    assert b["dataset"]["samples"]["added"] == [{"text_input": "21", "output": "22"}]


def test_preamble_hyperparameters_and_a_new_and_a_removed_model(repo: Tree) -> None:
    repo.write("a.yaml", tuned_model("a") + WORKSPACE)
    repo.write("gone.yaml", tuned_model("gone"))
    commit(repo)
    extra = '  preamble: "Next: "\n  hyperparameters:\n    epochCount: 3\n'
    repo.write("a.yaml", tuned_model("a", extra_spec=extra) + WORKSPACE)
    os.remove(repo.root / "gone.yaml")
    repo.write("new.yaml", tuned_model("new", examples=24))
    doc = review("--base", "main")
    a = model(doc, "a")["base"]
    assert a["preamble"] == ["", "Next: "]
    assert a["hyperparameters"] == [{"path": "hyperparameters.epochCount", "before": 5, "after": 3}]
    assert a["dataset"]["changed"] == 0 and a["dataset"]["added"] == 0  # keyed without preamble
    assert model(doc, "new")["base"]["status"] == "new"
    assert model(doc, "gone")["base"]["status"] == "removed"


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_csv_and_json_sources(repo: Tree, suffix: str) -> None:
    def write(data: list[dict[str, str]]) -> None:
        if suffix == "csv":
            repo.write(
                "d.csv",
                "text_input,output\n" + "".join(f"{r['text_input']},{r['output']}\n" for r in data),
            )
        else:
            repo.write("d.json", json.dumps(data, indent=1))

    repo.write("m.yaml", tuned_model("m", path=f"d.{suffix}") + WORKSPACE)
    write(rows(22))
    commit(repo)
    data = rows(22)
    data[0] = {"text_input": "0", "output": "zero"}
    write(data[:-1])
    d = model(review("--base", "main"), "m")["base"]["dataset"]
    assert (d["before"], d["after"], d["added"], d["removed"], d["changed"]) == (22, 21, 0, 1, 1)
    assert d["samples"]["changed"] == [{"text_input": "0", "output": "zero", "before": "1"}]


def test_unchanged_models_are_not_read_at_the_base(repo: Tree) -> None:
    repo.write("m.yaml", tuned_model("m", path="d.jsonl") + WORKSPACE)
    repo.jsonl("d.jsonl", rows(25))
    commit(repo)
    base = model(review("--base", "main"), "m")["base"]  # m trains: a create
    assert base == {**base, "status": "unchanged", "dataset": None}  # REF was not read


def test_an_unknown_ref_is_one_clear_error(repo: Tree) -> None:
    repo.write("m.yaml", tuned_model("m") + WORKSPACE)
    commit(repo)
    result = plan("--base", "no-such-branch")
    assert result.exit_code == 1
    assert "--base no-such-branch: no such commit in" in result.stderr
    assert "Traceback" not in result.output


def test_outside_a_git_repository_is_one_clear_error(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_TUNE_HOME", str(tree.root / ".gitops-tune"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tree.root.parent))
    tree.write("m.yaml", tuned_model("m") + WORKSPACE)
    result = plan("--base", "main")
    assert result.exit_code == 1
    assert result.stderr == f"error: --base main: {tree.root} is not inside a git repository\n"


def test_without_git_installed_is_one_clear_error(
    repo: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("m.yaml", tuned_model("m") + WORKSPACE)
    commit(repo)
    monkeypatch.setenv("PATH", str(repo.root / "no-bin"))
    result = plan("--base", "main")
    assert result.exit_code == 1
    assert "--base needs git, and git is not installed (not on PATH)" in result.stderr
