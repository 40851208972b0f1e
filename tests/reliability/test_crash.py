"""Crash safety: SIGKILL `apply` at random moments, then `apply --wait` converges.

Each kill point edits the manifests (so the killed run has creates, replaces, updates,
cancels, deletes or a recreate of a FAILED model to do), starts the real console script in its
own process against an emulator with latency, and SIGKILLs it at a seeded random moment: before
it printed anything, while its actions run, or while it waits for training. Sometimes the
next run is killed too. Then one `apply --wait` runs to the end, and the invariant is checked
over raw REST: every manifest has exactly one model, ACTIVE, at its deterministic ID, with the
declared spec; nothing superseded or half-created is left; models outside the workspace are
byte-for-byte unchanged.

CI: 20 kill points. ``GITOPS_TUNE_RELIABILITY=large``: 200.
"""

from __future__ import annotations

import contextlib
import random
import re
import signal
import subprocess
import time
from collections import Counter
from typing import Any

from gitops_tune.emulator.server import RunningEmulator
from tests.reliability.conftest import (
    Repo,
    assert_converged,
    configure,
    seed_bystanders,
    seeded,
    size,
)

NAMES = ["alpha", "beta", "gamma"]
LATENCY_MS = 60
TRAIN_SECONDS = 1.5  # long enough that a model started before the killed run still trains


_ACTION = re.compile(
    r"^(?P<name>[a-z0-9-]+): (?P<action>[a-z-]+) (?P<target>\S+) (?P<status>\.\.\.|done|FAILED)"
)
_PROGRESS = re.compile(r"^[a-z0-9-]+: (TRAINING|ACTIVE|FAILED|not found)")


class Scenario:
    """The manifests, changed at random between kill points."""

    def __init__(self, repo: Repo, rng: random.Random) -> None:
        self.repo, self.rng = repo, rng
        self.spec: dict[str, dict[str, Any]] = {n: {"epochs": 2, "text": ""} for n in NAMES}
        self.failures = 0

    def write(self, name: str, **extra: Any) -> None:
        s = self.spec[name]
        self.repo.write(
            name,
            description=s["text"],
            hyperparameters={"epochCount": s["epochs"], "batchSize": 4},
            **extra,
        )

    def mutate(self) -> str:
        """One random change; returns its kind."""
        present = [n for n in NAMES if (self.repo.root / f"{n}.yaml").exists()]
        absent = [n for n in NAMES if n not in present]
        kinds = ["replace", "replace", "update", "remove", "replace-many"]
        if absent:
            kinds += ["add", "add"]
        kind = self.rng.choice(kinds)
        if kind == "remove" and len(present) <= 1:
            kind = "replace"
        if kind == "add":
            self.write(self.rng.choice(absent))
        elif kind == "remove":
            self.repo.remove(self.rng.choice(present))
        elif kind == "update":
            name = self.rng.choice(present)
            self.spec[name]["text"] = f"revision {self.rng.randrange(10**6)}"
            self.write(name)
        else:
            for name in present if kind == "replace-many" else [self.rng.choice(present)]:
                # A small set of epoch counts, so reverts to an earlier fingerprint happen too.
                self.spec[name]["epochs"] = self.rng.choice([1, 2, 3, 4])
                self.write(name)
        return kind

    def failed_model(self) -> str:
        """Leave a FAILED current model behind, so the next run recreates it."""
        name = self.rng.choice([n for n in NAMES if (self.repo.root / f"{n}.yaml").exists()])
        self.failures += 1
        self.spec[name]["epochs"] = 4 + self.failures  # a fingerprint never used before
        self.write(name, displayName="crash EMULATOR_FAIL")
        result = self.repo.apply("--wait")
        assert result.exit_code == 1 and "FAILED" in result.output, result.output
        self.write(name)  # displayName is mutable: same fingerprint, plan says recreate
        return "recreate"


def phase_of(output: str) -> str:
    """Where the kill landed, from what the killed run had printed."""
    lines = output.splitlines()
    in_flight: dict[tuple[str, str], str] = {}
    planned = acted = waited = False
    for line in lines:
        m = _ACTION.match(line)
        if m:
            acted = True
            key = (m["name"], m["target"])
            if m["status"] == "...":
                in_flight[key] = m["action"]
            else:
                in_flight.pop(key, None)
        elif _PROGRESS.match(line):
            waited = True
        elif line.startswith(("Plan:", "No changes")):
            planned = True
    if in_flight:
        return sorted(set(in_flight.values()))[0]
    if waited:
        return "wait"
    if acted:
        return "after-actions"
    return "plan-printed" if planned else "startup-or-listing"


def kill_at_random(repo: Repo, rng: random.Random, wait: bool) -> tuple[str, float] | None:
    """Start an apply, SIGKILL it at a random moment; None when it finished first."""
    args = ["apply", "--auto-approve", *(["--wait", "--timeout", "60s"] if wait else [])]
    proc = repo.spawn(*args)
    started = time.monotonic()
    roll = rng.random()
    head = ""
    assert proc.stdout is not None
    if roll < 0.1:  # early: while importing, reading manifests or listing
        delay = rng.uniform(0.2, 1.2)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(delay)
    else:
        # After the plan is printed: mostly in the actions, sometimes in the wait.
        while line := proc.stdout.readline():
            head += line
            if line.startswith(("Plan:", "No changes")):
                break
        delay = rng.uniform(0, 0.2) if roll < 0.75 else rng.uniform(0.2, 1.6)
        time.sleep(delay)
    if proc.poll() is not None:
        proc.communicate()
        return None
    proc.send_signal(signal.SIGKILL)
    rest_out, _ = proc.communicate()
    output = head + rest_out
    return phase_of(output), time.monotonic() - started


def test_sigkill_at_random_moments_then_apply_converges(
    repo: Repo, emulator: RunningEmulator
) -> None:
    points = size(20, 200)
    rng = seeded("crash")
    configure(repo.url, latency_ms=LATENCY_MS)
    untouched = seed_bystanders(repo.url, repo.workspace, NAMES)
    scenario = Scenario(repo, rng)
    for name in NAMES:
        scenario.write(name)
    assert repo.apply("--wait").exit_code == 0
    assert_converged(repo, untouched)

    phases: Counter[str] = Counter()
    mutations: Counter[str] = Counter()
    kills = finished = 0
    began = time.monotonic()
    while kills < points:
        kind = scenario.failed_model() if rng.random() < 0.1 else scenario.mutate()
        if rng.random() < 0.3:  # start that training, then change it: the killed run cancels
            assert repo.apply().exit_code == 0
            kind += "+" + scenario.mutate()
        mutations[kind] += 1
        for _ in range(2 if rng.random() < 0.2 else 1):  # sometimes kill the recovery too
            landed = kill_at_random(repo, rng, wait=rng.random() < 0.5)
            if landed is None:
                finished += 1
                continue
            kills += 1
            phases[landed[0]] += 1
        result = repo.apply("--wait")
        assert result.exit_code == 0, result.output
        assert_converged(repo, untouched)
    elapsed = time.monotonic() - began
    print(
        f"crash: {kills} kill points in {elapsed:.0f} s ({finished} runs finished before "
        f"their kill); landed in {dict(sorted(phases.items()))}; "
        f"mutations {dict(sorted(mutations.items()))}"
    )
    # The kills must exercise the interesting windows, not only start-up.
    assert phases["startup-or-listing"] + phases["plan-printed"] < kills
