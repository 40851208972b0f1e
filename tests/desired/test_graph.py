"""The graph of stages, as plain functions over {child: parent}."""

from __future__ import annotations

from gitops_tune.desired import graph

PARENTS = {"b": "a", "c": "b", "x": "a", "z": "y"}


def test_topological_order_is_parents_first_then_by_name() -> None:
    # the smallest name ready next: a valid order, and the same on every run
    assert graph.topological(["c", "b", "a", "x", "y", "z", "m"], PARENTS) == [
        "a",
        "b",
        "c",
        "m",
        "x",
        "y",
        "z",
    ]
    assert graph.topological(["z", "y", "b", "a"], PARENTS) == ["a", "b", "y", "z"]
    # without stages it is name order, as plans always were
    assert graph.topological(["q", "b", "k"], {}) == ["b", "k", "q"]
    # a parent outside the names orders nothing
    assert graph.topological(["c", "x"], PARENTS) == ["c", "x"]


def test_ancestors_root_and_targets() -> None:
    assert graph.ancestors("c", PARENTS) == ["b", "a"]
    assert graph.ancestors("a", PARENTS) == []
    assert graph.root("c", PARENTS) == "a" and graph.root("m", PARENTS) == "m"
    assert graph.with_ancestors(["c", "z"], PARENTS) == {"a", "b", "c", "y", "z"}


def test_each_cycle_is_found_once_from_its_smallest_name() -> None:
    loops = {"a": "b", "b": "c", "c": "a", "d": "a", "self": "self", "p": "q"}
    assert graph.cycles(loops) == [["a", "b", "c"], ["self"]]
    assert graph.ancestors("d", loops) == ["a", "b", "c"]  # stops at the cycle
    order = graph.topological(loops, loops)
    assert order[-4:] == ["a", "b", "c", "d"]  # a cycle and its descendants last, not lost
    assert sorted(order) == sorted(loops)
