"""Stages as a graph, like Terraform's resource graph: each model names at most one parent
(``spec.from.model``), so the graph is a forest once it has no cycle. Pure functions over a
``{child: parent}`` mapping, used by desired-state loading (fingerprints need the parent's
first), the planner (order, ``--target`` ancestors, a parent's retrain carried to its
children) and apply (parents created first, children deleted first)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

Parents = Mapping[str, str]  # child name -> parent name


def ancestors(name: str, parents: Parents) -> list[str]:
    """``name``'s parent, its parent's parent, ... (nearest first; stops at a cycle)."""
    out: list[str] = []
    at = parents.get(name)
    while at is not None and at != name and at not in out:
        out.append(at)
        at = parents.get(at)
    return out


def with_ancestors(names: Iterable[str], parents: Parents) -> frozenset[str]:
    """``names`` and every model they continue from (``--target NAME`` plans its ancestors)."""
    return frozenset(n for name in names for n in (name, *ancestors(name, parents)))


def root(name: str, parents: Parents) -> str:
    """The first stage of ``name``'s pipeline (``name`` itself when it has no parent)."""
    chain = ancestors(name, parents)
    return chain[-1] if chain else name


def cycles(parents: Parents) -> list[list[str]]:
    """Every cycle once, each from its smallest name, in name order."""
    found: dict[str, list[str]] = {}
    for start in sorted(parents):
        path = [start]
        at = parents.get(start)
        while at is not None and at not in path:
            path.append(at)
            at = parents.get(at)
        if at is None:
            continue
        loop = path[path.index(at) :]
        first = min(loop)
        i = loop.index(first)
        found.setdefault(first, loop[i:] + loop[:i])
    return [found[k] for k in sorted(found)]


def topological(names: Iterable[str], parents: Parents) -> list[str]:
    """``names`` with every parent before its children, otherwise by name (so models without
    stages keep name order). A parent outside ``names`` orders nothing; members of a cycle
    and their descendants come last, by name."""
    pool = set(names)
    children: dict[str, list[str]] = {}
    waiting = {n: 0 for n in pool}
    for child in pool:
        parent = parents.get(child)
        if parent in pool and parent != child:
            children.setdefault(parent, []).append(child)
            waiting[child] = 1
    ready = [n for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        out.append(name)
        for child in children.get(name, []):
            heapq.heappush(ready, child)
    return out + sorted(pool - set(out))
