"""Concurrent runs: four `apply --wait` processes on the same manifests at once, then one more.

No lock is taken (see docs/reliability.md, "Concurrent runs"): every run derives the same
deterministic tuned-model IDs from the same manifests, the store refuses a second create of an
ID (409), which the loser adopts after checking the owner, deletes of what is already gone
succeed, and the planner retires only what the manifests no longer want. The test asserts
that every racing run succeeds, that no duplicate ever exists, and that the final state is the
declared one.

CI: 3 rounds of 4 processes. ``GITOPS_TUNE_RELIABILITY=large``: 10 rounds of 6.
"""

from __future__ import annotations

import threading
import time

from gitops_tune.apply import Applier, ApplyOptions
from gitops_tune.desired import load
from gitops_tune.emulator.server import RunningEmulator
from gitops_tune.plan import Action, PlanOptions, plan
from gitops_tune.providers.gemini import GeminiProvider, split_marker
from gitops_tune.settings import Invocation
from tests.harness import all_models
from tests.reliability.conftest import (
    API_KEY,
    Repo,
    assert_converged,
    configure,
    seed_bystanders,
    seeded,
    size,
    stats,
)

NAMES = ["alpha", "beta", "gamma", "delta"]


class DuplicateWatch:
    """Polls the store during the race: two models of one fingerprint would be a duplicate."""

    def __init__(self, url: str, workspace: str) -> None:
        self.url, self.workspace = url, workspace
        self.seen: list[str] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            by_fingerprint: dict[tuple[str, str], list[str]] = {}
            for m in all_models(self.url):
                _, owner = split_marker(m.get("description", ""))
                if owner is not None and owner.workspace == self.workspace:
                    key = (owner.name, owner.fingerprint)
                    by_fingerprint.setdefault(key, []).append(m["name"])
            self.polls += 1
            self.seen += [f"{k}: {v}" for k, v in by_fingerprint.items() if len(v) > 1]

    def __enter__(self) -> DuplicateWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_concurrent_applies_never_duplicate_and_converge(
    repo: Repo, emulator: RunningEmulator
) -> None:
    rounds, processes = size(3, 10), size(4, 6)
    rng = seeded("concurrency")
    configure(repo.url, latency_ms=30)
    untouched = seed_bystanders(repo.url, repo.workspace, NAMES)
    epochs = dict.fromkeys(NAMES, 1)
    began = time.monotonic()
    runs = 0
    for r in range(rounds):
        if r == 0:
            chosen = NAMES
        else:  # replace some, update one, remove or restore one
            chosen = rng.sample(NAMES, 2)
            for name in chosen:
                epochs[name] = rng.randint(1, 5)
        for name in NAMES:
            repo.write(
                name,
                description=f"round {r}" if name == NAMES[r % 4] else "",
                hyperparameters={"epochCount": epochs[name], "batchSize": 4},
            )
        if r % 2 == 1:
            repo.remove(rng.choice(NAMES))
        elif r > 0:  # a FAILED current model: every racer plans to delete and recreate it
            name = rng.choice([n for n in NAMES if n not in chosen])
            epochs[name] = 10 + r
            spec = {"hyperparameters": {"epochCount": epochs[name], "batchSize": 4}}
            repo.write(name, displayName="race EMULATOR_FAIL", **spec)
            assert repo.apply("--wait").exit_code == 1
            repo.write(name, **spec)
        with DuplicateWatch(repo.url, repo.workspace) as watch:
            procs = [
                repo.spawn("apply", "--auto-approve", "--wait", "--timeout", "60s")
                for _ in range(processes)
            ]
            outputs = [p.communicate(timeout=120)[0] for p in procs]
        runs += processes
        for p, out in zip(procs, outputs, strict=True):
            assert p.returncode == 0, out
            assert "Traceback" not in out
        assert not watch.seen, watch.seen
        result = repo.apply("--wait")
        assert result.exit_code == 0, result.output
        assert "No changes." in result.output, result.output  # the racers already converged
        assert_converged(repo, untouched)
    print(
        f"concurrency: {rounds} rounds x {processes} concurrent applies ({runs} runs) in "
        f"{time.monotonic() - began:.0f} s; requests {sum(stats(repo.url).values())}"
    )


def test_a_stale_recreate_does_not_delete_a_concurrent_runs_fresh_model(
    repo: Repo, emulator: RunningEmulator
) -> None:
    """Two runs plan "recreate the FAILED model" from the same observation; the first deletes
    and recreates it. The second must adopt the new model, not delete it and train again."""
    repo.write("alpha", displayName="race EMULATOR_FAIL")
    assert repo.apply("--wait").exit_code == 1
    repo.write("alpha")
    provider = GeminiProvider(api_key=API_KEY, base_url=repo.url)
    desired = load([str(repo.root)], Invocation(backend="gemini")).models
    options = PlanOptions(repo.workspace)
    stale = plan(desired, provider.list_models(repo.workspace), options, "gemini")
    assert [c.action for c in stale.actionable] == [Action.RECREATE]

    assert repo.apply().exit_code == 0  # the first run: delete, create
    (fresh,) = all_models(repo.url)
    assert fresh["state"] == "CREATING"

    applier = Applier(provider, desired, ApplyOptions(wait=True, poll_s=0.1), _Quiet(), options)
    result = applier.run(stale)  # the second run, on its stale plan
    assert not result.failed, result.failed
    (after,) = all_models(repo.url)
    assert after["createTime"] == fresh["createTime"], "the fresh model was deleted and retrained"
    assert_converged(repo)


class _Quiet:
    def action(self, change: object, status: str, detail: str = "") -> None:
        pass

    def progress(self, models: object) -> None:
        pass

    def evaluation(self, name: str, model: str, done: int, total: int) -> None:
        pass
