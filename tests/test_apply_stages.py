"""Apply's side of stages: pipelines in order, and the parent checkpoint a child starts from."""

from __future__ import annotations

import pytest

from gitops_tune.apply_stages import checkpoint_id, pipelines
from gitops_tune.desired.state import Stage
from gitops_tune.errors import Location
from gitops_tune.plan import Action, Change
from gitops_tune.providers.base import Checkpoint, ProviderError
from tests.factories import remote

PARENTS = {"b": "a", "c": "b", "y": "x"}


def names(chains: list[list[list[Change]]]) -> list[list[str]]:
    return [[group[0].name for group in chain] for chain in chains]


def test_pipelines_run_parents_first_or_children_first() -> None:
    groups = {n: [Change(n, Action.CREATE)] for n in ("c", "a", "y", "b", "x", "solo")}
    assert names(pipelines(groups, PARENTS, children_first=False)) == [
        ["a", "b", "c"],
        ["solo"],
        ["x", "y"],
    ]
    assert names(pipelines(groups, PARENTS, children_first=True)) == [
        ["c", "b", "a"],
        ["solo"],
        ["y", "x"],
    ]


def stage(checkpoint: str) -> Stage:
    return Stage("a", checkpoint, "p" * 64, "o" * 64, Location("m.yaml", 1, 1))


def test_the_checkpoint_a_child_starts_from() -> None:
    points = (Checkpoint("11", 1, 10), Checkpoint("12", 2, 20), Checkpoint("13", 3, 30))
    parent = remote("a", checkpoints=points)
    assert checkpoint_id(parent, stage("last")) == "13"
    assert checkpoint_id(parent, stage("2")) == "12"
    assert checkpoint_id(remote("a"), stage("last")) == ""  # none listed: its default
    with pytest.raises(ProviderError, match="has no checkpoint for epoch 4"):
        checkpoint_id(parent, stage("4"))
