#!/usr/bin/env python3
"""How long the emulator takes to list N finished tuned models (one ``GET
/v1beta/tunedModels?pageSize=1000`` page), the shape a plan reads. See bench/README.md.

    python bench/emulator_list.py                 # N=1,000, 160 snapshots a model; prints
    python bench/emulator_list.py --models 200 --repeat 3

The models are written straight into the store (already finished: created an hour ago, one
second of training), then the list is fetched over HTTP from an in-process emulator; the
figure is the median wall time of ``--repeat`` fetches after one warm-up fetch, which is
the first read after a restart. "After a restart": the first list in each of ``--repeat``
new Python processes that open the same store file (the `local` backend starts an emulator
process per command), their median.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitops_tune.emulator import training
from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.emulator.store import ModelRecord

BASE_MODEL = "models/gemini-1.5-flash-001-tuning"


def seed(running: RunningEmulator, models: int, examples: int, epochs: int, batch: int) -> int:
    """Write ``models`` finished models; returns the snapshots each one reports."""
    steps = training.total_steps(examples, batch, epochs)
    created = time.time() - 3600
    for i in range(models):
        record = ModelRecord(
            id=f"bench-model-{i:05d}",
            display_name=f"bench model {i}",
            description="a finished model",
            base_model=BASE_MODEL,
            hyperparameters={"epochCount": epochs, "batchSize": batch, "learningRate": 0.001},
            sampling={"temperature": 1.0, "topP": 0.95, "topK": 64},
            create_time=created,
            update_time=created,
            train_seconds=1.0,
            total_steps=steps,
            steps_per_epoch=training.steps_per_epoch(examples, batch),
            example_count=examples,
            data_seed=i,
            fail=False,
            operation_id=f"op{i:010d}",
        )
        running.store.insert(record, [("in", "out")])
    return steps


def fetch(running: RunningEmulator) -> tuple[float, int, int]:
    """(seconds, models listed, bytes) of one list call."""
    conn = http.client.HTTPConnection(running.host, running.port, timeout=120)
    start_time = time.perf_counter()
    conn.request("GET", "/v1beta/tunedModels?pageSize=1000", headers={"x-goog-api-key": "b"})
    resp = conn.getresponse()
    body = resp.read()
    seconds = time.perf_counter() - start_time
    conn.close()
    assert resp.status == 200, body[:200]
    return seconds, body.count(b'"name": "tunedModels/'), len(body)


def restarted(db_path: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process: server thread and client) of the first list
    of a new Python process on the store file ``db_path``."""
    code = (
        "import sys, time; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import emulator_list as b; "
        "from gitops_tune.emulator.server import EmulatorConfig, start; "
        "r = start(EmulatorConfig(port=0, db_path=sys.argv[3])); c = time.process_time(); "
        "w = b.fetch(r)[0]; print(w, time.process_time() - c); r.stop()"
    )
    here = Path(__file__).resolve().parent
    out = subprocess.run(
        [sys.executable, "-c", code, str(here.parent), str(here), db_path],
        check=True,
        capture_output=True,
        text=True,
    )
    wall, cpu = out.stdout.split()[-2:]
    return float(wall), float(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        config = EmulatorConfig(port=0, db_path=str(Path(folder) / "local.db"))
        with start(config) as running:
            steps = seed(running, args.models, args.examples, args.epochs, args.batch_size)
            first, listed, size = fetch(running)
            times = [fetch(running)[0] for _ in range(args.repeat)]
        runs = [restarted(config.db_path or "") for _ in range(args.repeat)]
    fresh, cpu = [w for w, _ in runs], [c for _, c in runs]
    print(
        f"list of {listed} finished models ({steps} snapshots each, {size / 1e6:.1f} MB): "
        f"first {first:.3f} s, then median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f} s) over {args.repeat} calls; first list of a new process on "
        f"the same store: median {statistics.median(fresh):.3f} s (min {min(fresh):.3f} s, "
        f"max {max(fresh):.3f} s; CPU median {statistics.median(cpu):.3f} s) over "
        f"{args.repeat} processes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
