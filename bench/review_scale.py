#!/usr/bin/env python3
"""`plan --base` at scale: N manifests x E examples in a git repository, 10% of the datasets
changed since the base commit; the real CLI timed with and without --base, and its peak RSS.

    python bench/review_scale.py                              # N=1,000 x 500, prints figures
    python bench/review_scale.py --models 50 --examples 100   # a quick run

Both plans run on the local backend with nothing applied, so every model is a create: both
compute the findings and cost of every model; --base adds reading REF and the diff of the
changed 10%. Targets (issue #14): at most 1.5x the plan without --base, peak RSS < 250 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_WORDS = [
    "account",
    "billing",
    "invoice",
    "refund",
    "password",
    "login",
    "error",
    "crash",
    "slow",
    "upload",
    "order",
    "shipping",
]
_LABELS = ("billing", "auth", "bug", "shipping", "other")


def write(root: Path, n: int, examples: int, rng: random.Random) -> None:
    (root / "ws.yaml").write_text(
        "apiVersion: gitops-tune/v1\nkind: Workspace\nmetadata:\n  name: bench\n"
        "spec:\n  backend: local\n"
    )
    for i in range(n):
        name = f"m{i:04d}"
        (root / "models").mkdir(exist_ok=True)
        (root / "data").mkdir(exist_ok=True)
        (root / "models" / f"{name}.yaml").write_text(
            f"apiVersion: gitops-tune/v1\nkind: TunedModel\nmetadata:\n  name: {name}\nspec:\n"
            "  baseModel: models/gemini-1.5-flash-001-tuning\n  task: classification\n"
            f"  dataset:\n    path: ../data/{name}.jsonl\n"
        )
        lines = []
        for j in range(examples):
            text = f"{j} " + " ".join(rng.choices(_WORDS, k=rng.randint(8, 30)))
            lines.append(json.dumps({"text_input": text, "output": rng.choice(_LABELS)}))
        (root / "data" / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


def change(root: Path, n: int, rng: random.Random) -> None:
    """10% of the datasets: 5 examples changed, 3 removed, 5 added."""
    for i in rng.sample(range(n), max(1, n // 10)):
        path = root / "data" / f"m{i:04d}.jsonl"
        lines = path.read_text().splitlines()
        for k in range(5):
            row = json.loads(lines[k])
            lines[k] = json.dumps({**row, "output": "changed"})
        del lines[10:13]
        lines += [json.dumps({"text_input": f"new {k} example", "output": "bug"}) for k in range(5)]
        path.write_text("\n".join(lines) + "\n")


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def timed(root: Path, args: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds: user + system) of one
    `python -m gitops_tune plan` process. CPU time is what to compare on a shared machine,
    where the wall clock also measures the neighbours."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "GITOPS_TUNE_HOME": str(root / ".gt")}
    script = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - t, u.ru_maxrss, u.ru_utime + u.ru_stime, r.returncode)\n"
    )
    cmd = [sys.executable, "-c", script, sys.executable, "-m", "gitops_tune", "plan", *args, "."]
    out = subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True, text=True)
    seconds, rss_kb, cpu, code = out.stdout.split()
    assert code == "0", f"plan exited {code}"
    return float(seconds), int(rss_kb) / 1024, float(cpu)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--examples", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="gitops-tune-review-bench-") as tmp:
        root = Path(tmp)
        write(root, a.models, a.examples, rng)
        (root / ".gitignore").write_text(".gt/\n")
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        change(root, a.models, rng)
        timed(root, ["--format", "json"])  # warm the fingerprint cache and the page cache
        plain = [timed(root, ["--format", "json"]) for _ in range(a.runs)]
        based = [timed(root, ["--format", "json", "--base", "main"]) for _ in range(a.runs)]
    p, b = statistics.median(r[0] for r in plain), statistics.median(r[0] for r in based)
    pc, bc = statistics.median(r[2] for r in plain), statistics.median(r[2] for r in based)
    rss = max(r[1] for r in based)
    print(f"N = {a.models} models x {a.examples} examples, 10% of datasets changed")
    print(
        f"plan (median of {a.runs}): {p:.2f} s wall, {pc:.2f} s CPU, "
        f"peak RSS {max(r[1] for r in plain):.0f} MB"
    )
    print(
        f"plan --base main (median of {a.runs}): {b:.2f} s wall, {bc:.2f} s CPU, "
        f"peak RSS {rss:.0f} MB"
    )
    print(f"ratio: {b / p:.2f}x wall, {bc / pc:.2f}x CPU (target <= 1.5x); RSS target < 250 MB")
    return 0 if bc / pc <= 1.5 and rss < 250 else 1


if __name__ == "__main__":
    sys.exit(main())
