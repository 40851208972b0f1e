#!/usr/bin/env python3
"""What a no-change plan asks Vertex AI: the requests of `gitops-tune plan` over N trained
Vertex AI models, counted by the emulator (``/_emulator/stats``).

Generates N manifests and asks the real CLI for its plan (every model a create, with the ID and
fingerprint each would get). Creates those N tuning jobs with exactly the labels a create sets
(raw REST: an apply of 1,000 creates would mostly measure the emulator), on an emulator whose
jobs train at once, then runs the real CLI plan once and prints the requests it made, by
route. The claim it checks: two listings (tuning jobs and models), no request per model. Then
it times the no-change plan with the backend and bucket named by the Workspace document only,
and by the environment too (the list starts early, in a helper process).

    python bench/vertex_plan_calls.py                 # N=1,000
    python bench/vertex_plan_calls.py --models 50     # quicker
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import _vertex_env as vertex_env  # noqa: E402
from _installed import compile_package  # noqa: E402

from gitops_tune.providers.base import Owner  # noqa: E402
from gitops_tune.providers.vertex_jobs import labels_for  # noqa: E402
from tests.harness import request_json  # noqa: E402

BUCKET, PROJECT, LOCATION = "bench-staging", "bench", "us-central1"


def write_repo(root: Path, models: int) -> None:
    workspace = {
        "apiVersion": "gitops-tune/v1",
        "kind": "Workspace",
        "metadata": {"name": "bench"},
        "spec": {"backend": "vertex", "vertex": {"stagingBucket": f"gs://{BUCKET}"}},
    }
    docs: list[dict[str, Any]] = [workspace]
    for i in range(models):
        examples = [{"text_input": f"{i} {j}", "output": f"{i} {j + 1}"} for j in range(20)]
        docs.append(
            {
                "apiVersion": "gitops-tune/v1",
                "kind": "TunedModel",
                "metadata": {"name": f"m{i:04d}"},
                "spec": {
                    "baseModel": "gemini-2.5-flash",
                    "dataset": {"examples": examples},
                    "hyperparameters": {"epochCount": 1},
                },
            }
        )
    (root / "models.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))


def environment(url: str, adc: Path) -> dict[str, str]:
    return vertex_env.environment(url, adc, PROJECT, LOCATION) | {"GITOPS_TUNE_WORKSPACE": "bench"}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops_tune", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def seed(url: str, env: dict[str, str], root: Path) -> None:
    """The jobs ``apply`` would create, labelled as it labels them."""
    planned = cli(env, "plan", "--format", "json", str(root))
    line = json.dumps(
        {
            "contents": [
                {"role": "user", "parts": [{"text": "1"}]},
                {"role": "model", "parts": [{"text": "2"}]},
            ]
        }
    )
    upload = urllib.request.Request(
        f"{url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name=seed.jsonl",
        data=line.encode(),
        method="POST",
    )
    urllib.request.urlopen(upload).read()
    for change in json.loads(planned.stdout)["changes"]:
        owner = Owner("bench", change["name"], change["fingerprint"])
        body = {
            "baseModel": "gemini-2.5-flash",
            "tunedModelDisplayName": change["name"],
            "labels": labels_for(owner, change["new"]),
            "supervisedTuningSpec": {
                "trainingDatasetUri": f"gs://{BUCKET}/seed.jsonl",
                "hyperParameters": {"epochCount": "1", "learningRateMultiplier": 1.0},
            },
        }
        path = f"v1beta1/projects/{PROJECT}/locations/{LOCATION}/tuningJobs"
        request_json(url, "POST", path, body, {"Authorization": "Bearer bench"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    n = parser.parse_args().models
    compile_package()
    with vertex_env.emulated(BUCKET, PROJECT) as (url, root, adc):
        write_repo(root, n)
        env = environment(url, adc)
        started = time.monotonic()
        seed(url, env, root)
        print(f"created {n} tuning jobs in {time.monotonic() - started:.1f} s")
        before = request_json(url, "GET", "_emulator/stats")["requests"]
        started = time.monotonic()
        planned = cli(env, "plan", "--detailed-exitcode", str(root))
        seconds = time.monotonic() - started
        after = request_json(url, "GET", "_emulator/stats")["requests"]
        made = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        made.pop("GET /_emulator/stats", None)
        print(
            f"no-change plan over {n} Vertex AI models: exit {planned.returncode}, {seconds:.1f} s"
        )
        for route, count in sorted(made.items()):
            print(f"  {count:5d}  {route}")
        lists = [r for r in made if r.endswith(("/tuningJobs", "/models"))]
        per_model = sum(v for r, v in made.items() if r not in lists)
        pages = sum(made[r] for r in lists)
        print(f"listings: {len(lists)} ({pages} pages); other requests: {per_model}")
        ok = planned.returncode == 0 and len(lists) <= 2 and per_model == 0
        return 0 if ok and timed(env, root) else 1


def timed(env: dict[str, str], root: Path, runs: int = 3) -> bool:
    """The no-change plan with the backend and bucket from the Workspace document only, and
    with the environment naming them too (the list then starts in a helper process as soon as
    the command line is parsed): medians of ``runs``, interleaved."""
    named = env | {"GITOPS_TUNE_BACKEND": "vertex", "GITOPS_TUNE_STAGING_BUCKET": f"gs://{BUCKET}"}
    seconds: dict[str, list[float]] = {"document": [], "environment": []}
    for _ in range(runs):
        for what, where in (("document", env), ("environment", named)):
            started = time.monotonic()
            planned = cli(where, "plan", "--detailed-exitcode", str(root))
            seconds[what].append(time.monotonic() - started)
            if planned.returncode != 0:
                print(f"the plan ({what}) found changes or failed:\n{planned.stderr[-2000:]}")
                return False
    doc, early = (sorted(v)[len(v) // 2] for v in seconds.values())
    print(f"no-change plan, median of {runs}: {doc:.2f} s with the backend and bucket from the")
    print(f"Workspace document; {early:.2f} s ({early / doc:.2f}x) with the environment naming")
    print("them too")
    return True


if __name__ == "__main__":
    sys.exit(main())
