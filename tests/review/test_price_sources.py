"""Where the plan's price table comes from: `--prices`, then GITOPS_TUNE_PRICES, then the
Workspace's ``spec.review.prices`` (relative to its file), then the package's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from tests.conftest import Tree, tuned_model

WORKSPACE = (
    "apiVersion: gitops-tune/v1\nkind: Workspace\nmetadata:\n  name: prices\n"
    "spec:\n  backend: local\n  review:\n    prices: {path}\n"
)


def table(rate: float) -> str:
    return (
        "prices:\n  - baseModel: gemini-1.5-flash\n"
        f"    usdPerMillionTrainingTokens: {rate}\n    source: test {rate}\n"
    )


@pytest.fixture
def repo(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> Tree:
    monkeypatch.setenv("GITOPS_TUNE_HOME", str(tree.root / ".gitops-tune"))
    monkeypatch.delenv("GITOPS_TUNE_PRICES", raising=False)
    # every *.yaml under the manifest paths is a manifest, except hidden files
    tree.write("config/workspace.yaml", WORKSPACE.format(path="costs/.prices.yaml"))
    tree.write("config/costs/.prices.yaml", table(1_000_000))
    tree.write("config/m.yaml", tuned_model("m"))
    return tree


def plan(*args: str) -> Result:
    return CliRunner().invoke(main, ["plan", "--format", "json", *args, "config"])


def cost(*args: str) -> dict[str, Any]:
    result = plan(*args)
    assert result.exit_code == 0, result.output
    (model,) = json.loads(result.stdout)["review"]["models"]
    found: dict[str, Any] = model["cost"]
    return found


def test_the_workspace_names_a_table_relative_to_its_file(repo: Tree) -> None:
    c = cost()
    assert c["price_source"] == "test 1000000"
    assert c["usd"] == c["training_tokens"]  # a dollar a token


def test_a_table_outside_the_manifest_paths(repo: Tree) -> None:
    repo.write("costs.yaml", table(5_000_000))
    repo.write("config/workspace.yaml", WORKSPACE.format(path="../costs.yaml"))
    assert cost()["price_source"] == "test 5000000"


def test_the_environment_and_the_flag_win(repo: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write("env.yaml", table(2_000_000))
    repo.write("flag.yaml", table(3_000_000))
    monkeypatch.setenv("GITOPS_TUNE_PRICES", "env.yaml")
    assert cost()["price_source"] == "test 2000000"
    assert cost("--prices", "flag.yaml")["price_source"] == "test 3000000"


def test_a_missing_table_is_one_error_at_the_workspace(repo: Tree) -> None:
    repo.write("config/workspace.yaml", WORKSPACE.format(path="nope.yaml"))
    result = plan()
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    line = next(x for x in result.output.splitlines() if "price table" in x)
    assert line.startswith("config/workspace.yaml:")
    assert line.endswith(
        "spec.review.prices: cannot read the price table config/nope.yaml: No such file or "
        "directory"
    )


def test_the_schema_refuses_an_empty_path(repo: Tree) -> None:
    repo.write("config/workspace.yaml", WORKSPACE.format(path='""'))
    result = CliRunner().invoke(main, ["validate", "config"])
    assert result.exit_code == 1
    assert "spec.review.prices" in result.output
