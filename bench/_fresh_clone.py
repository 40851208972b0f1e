"""The "fresh clone" case of `plan_scale.py`: what a CI pipeline meets on every run.

The tree is copied to a new directory (new paths, inodes and mtimes) and planned with an empty
working folder, first with no CI cache, then with `.gitops-tune/fingerprints` restored from an
earlier run's (the previous copy's, so its path entries do not match: only the content entries
can answer, as in CI). Each copy is written out to disk and left alone for `RACY_SECONDS`
before its plan, as a checkout is in a real pipeline (setting up Python and installing take
longer), so the first run's cache entries are stored. Each figure is the median of
``--repeat`` runs, every run on a new copy.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RACY_SECONDS = 2.0  # gitops_tune.dataset.cache.RACY_SECONDS


def _plan_in_clone(bench: Any, tree: Path, name: str, restore: Path | None) -> Any:
    clone, home = bench.work / f"clone-{name}", bench.work / f"home-{name}"
    shutil.rmtree(clone, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(tree, clone)
    if restore is not None:
        shutil.copytree(restore, home / "fingerprints")
    os.sync()  # written out now, not by the kernel's writeback during a timed plan
    time.sleep(RACY_SECONDS)
    saved = bench.env
    bench.env = {**saved, "GITOPS_TUNE_HOME": str(home)}
    try:
        run = bench.cli("plan", "--detailed-exitcode", str(clone))
    finally:
        bench.env = saved
    if run.rc != 0:
        raise SystemExit(f"the fresh-clone plan found changes:\n{run.stdout[-2000:]}")
    return run


def measure(
    bench: Any, tree: Path, repeat: int, floor_s: float, row: Callable[..., Any]
) -> tuple[list[Any], list[tuple[str, bool, str]]]:
    """(rows, verdicts) of the fresh-clone case against the floor."""
    cold, restored = [], []
    for i in range(repeat):
        cold.append(_plan_in_clone(bench, tree, f"a{i}", None))
        ci_cache = bench.work / f"home-a{i}" / "fingerprints"
        restored.append(_plan_in_clone(bench, tree, f"b{i}", ci_cache))
    median = [sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2] for runs in (cold, restored)]
    (c, r), n = median, len(cold)
    rows = [
        row(
            f"fresh clone, plan without a CI cache (median of {n})",
            f"{c.wall_s:.2f} s",
            f"{c.wall_s / floor_s:.2f}x floor",
            "<= 1.3x floor",
            "new copy of the tree, empty working folder: every dataset hashed and parsed",
        ),
        row(
            f"fresh clone, plan with the CI cache restored (median of {n})",
            f"{r.wall_s:.2f} s",
            f"{r.wall_s / floor_s:.2f}x floor",
            "<= 1.1x floor",
            "`.gitops-tune/fingerprints` of an earlier copy: every dataset hashed, none parsed",
        ),
    ]
    verdicts = [
        (
            "fresh clone, plan without a CI cache within 1.3x of the floor",
            c.wall_s <= 1.3 * floor_s,
            f"{c.wall_s / floor_s:.2f}x ({c.wall_s:.2f} s vs {floor_s:.2f} s)",
        ),
        (
            "fresh clone, plan with a restored CI cache within 1.1x of the floor",
            r.wall_s <= 1.1 * floor_s,
            f"{r.wall_s / floor_s:.2f}x ({r.wall_s:.2f} s vs {floor_s:.2f} s)",
        ),
    ]
    return rows, verdicts
