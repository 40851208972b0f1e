#!/usr/bin/env python3
"""Peak RSS of staging one large dataset for Vertex AI (the staging bucket's upload through
google-cloud-storage into the emulator's Cloud Storage). See bench/README.md.

    python bench/staging_memory.py                  # a 256 MB dataset
    python bench/staging_memory.py --megabytes 64

The emulator runs in its own process (it keeps the object, so its memory is not the tool's).
Each figure is a fresh child process that builds the examples from a generator (as the
datasets module streams them from a file) and stages them: ``streamed`` is the staging bucket
(`StagingBucket.stage`: lines spooled to a temporary file and uploaded in resumable chunks);
``joined`` holds the whole JSONL in memory first, as the uploader did before. A child reports
its RSS before staging and its peak (``ru_maxrss``) after.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitops_tune.dataset import Example

BUCKET = "bench-staging"
LINE_TEXT = 1000  # characters of input text a line


def examples(megabytes: int) -> Iterator[Example]:
    """About ``megabytes`` MB of staged JSONL, built one example at a time."""
    for i in range(megabytes * 1_000_000 // (LINE_TEXT + 80)):
        yield Example(f"ticket {i}: " + "lorem ipsum " * (LINE_TEXT // 12), f"class {i % 7}")


def _serve(port_out: multiprocessing.Queue[int]) -> None:
    from gitops_tune.emulator.server import EmulatorConfig, start

    running = start(EmulatorConfig(port=0))
    port_out.put(running.port)
    while True:
        time.sleep(3600)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def child(mode: str, url: str, megabytes: int) -> None:
    """Stage once in this process; print before/peak RSS (MB) and seconds as JSON."""
    from gitops_tune.providers.sdk_storage import Storage
    from gitops_tune.providers.vertex_bucket import StagingBucket
    from gitops_tune.providers.vertex_jobs import to_jsonl

    storage = Storage(endpoint=url)
    before = _rss_kib()
    started = time.perf_counter()
    if mode == "streamed":
        StagingBucket(storage, BUCKET).stage(None, lambda: examples(megabytes))
    else:
        payload = to_jsonl(examples(megabytes))
        storage.upload_file_once(
            BUCKET, f"joined-{megabytes}.jsonl", io.BytesIO(payload), len(payload)
        )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before": before / 1024, "peak": peak / 1024, "seconds": seconds}))


def measure(mode: str, url: str, megabytes: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--megabytes", str(megabytes)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=256)
    parser.add_argument("--child", choices=("streamed", "joined"))
    parser.add_argument("--url")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.url, args.megabytes)
        return 0
    context = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue[int] = context.Queue()
    server = context.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=60)}"
        from gitops_tune.providers.sdk_storage import UPLOAD_CHUNK, Storage

        Storage(endpoint=url).create_bucket(BUCKET)
        for mode in ("streamed", "joined"):
            r = measure(mode, url, args.megabytes)
            print(
                f"{mode}: staging a {args.megabytes} MB dataset: peak RSS {r['peak']:.0f} MB "
                f"(before staging {r['before']:.0f} MB, so +{r['peak'] - r['before']:.0f} MB), "
                f"{r['seconds']:.1f} s; chunk {UPLOAD_CHUNK // 2**20} MiB"
            )
    finally:
        server.terminate()
        server.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
