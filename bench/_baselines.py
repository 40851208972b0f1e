#!/usr/bin/env python3
"""The minimal programs `plan_scale.py` compares the CLI against. Each runs as its own process
(so interpreter start and imports count) and prints one JSON line of inner timings.

    _baselines.py floor TREE        imports of the CLI and the SDK, one list, sha256 of the datasets
    _baselines.py refresh TREE      imports, one list, then one GET per model, 10 in parallel
    _baselines.py creates TREE P    imports, list, base model, then each model created (POST + one
                                    GET), P in parallel: len/P rounds of (create + poll)
    _baselines.py fingerprint TREE N  the tool's dataset scan (cold, then cached) vs raw
                                    hashlib, medians of N runs
    _baselines.py hashlib TREE      raw read + sha256 of the datasets (a fresh process)

Environment as for the CLI: GOOGLE_GEMINI_BASE_URL, GEMINI_API_KEY, GITOPS_TUNE_HOME.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import hashlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

CHUNK = 1 << 20


def datasets(tree: Path) -> list[Path]:
    return sorted((tree / "data").glob("*.jsonl"))


def sha256_files(files: list[Path]) -> int:
    total = 0
    for p in files:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
                total += len(chunk)
        h.hexdigest()
    return total


def client() -> Any:
    from google import genai
    from google.genai import types

    import gitops_tune.cli  # noqa: F401  (the CLI's own import cost)

    return genai.Client(http_options=types.HttpOptions(api_version="v1beta"))


def request(c: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    from gitops_tune.providers.sdk_genai import raw_request

    return raw_request(c, method, path, body)


def list_all(c: Any) -> list[dict[str, Any]]:
    page = request(c, "get", "tunedModels?pageSize=1000")
    return list(page.get("tunedModels", []))


def floor(tree: Path) -> dict[str, Any]:
    c = client()
    t1 = time.perf_counter()
    models = list_all(c)
    t2 = time.perf_counter()
    size = sha256_files(datasets(tree))
    t3 = time.perf_counter()
    return {
        "start_imports_s": t1 - T0,
        "list_s": t2 - t1,
        "sha256_s": t3 - t2,
        "models": len(models),
        "bytes": size,
    }


def refresh(tree: Path) -> dict[str, Any]:
    c = client()
    models = list_all(c)
    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda m: request(c, "get", m["name"]), models))
    return {"gets_s": time.perf_counter() - t1, "models": len(models)}


def creates(tree: Path, parallel: int) -> dict[str, Any]:
    c = client()
    list_all(c)
    request(c, "get", "models/gemini-1.5-flash-001-tuning")
    preamble = "Classify this support ticket: "

    def create(p: Path) -> None:
        rows = [json.loads(line) for line in p.read_bytes().splitlines() if line.strip()]
        examples = [{"textInput": preamble + r["text_input"], "output": r["output"]} for r in rows]
        body = {
            "displayName": p.stem,
            "description": "baseline",
            "baseModel": "models/gemini-1.5-flash-001-tuning",
            "tuningTask": {
                "hyperparameters": {"epochCount": 5, "batchSize": 16, "learningRate": 0.001},
                "trainingData": {"examples": {"examples": examples}},
            },
        }
        request(c, "post", f"tunedModels?tunedModelId={p.stem}", body)
        request(c, "get", f"tunedModels/{p.stem}")

    files = datasets(tree)
    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(create, files))
    return {"rounds_s": time.perf_counter() - t1, "models": len(files)}


def fingerprint(tree: Path, repeat: int) -> dict[str, Any]:
    """Throughput over the dataset bytes, each the median of ``repeat`` runs: raw hashlib,
    then the tool's batch scan (`dataset.Scans`, as `plan` runs it) with the cache empty (on
    one process, then on every core, then on every core without the compiled tier 0), again
    with the files unchanged (counting the dataset files it opens), and as a fresh clone with
    the cache restored (path entries gone: every file hashed, none parsed); and tier 0 alone
    per MB, compiled and in Python."""
    import builtins
    import shutil
    import statistics

    from gitops_tune.dataset import ScanCache, ScanJob, Scans, file_source, layout
    from gitops_tune.settings import Invocation

    files = datasets(tree)
    sha256_files(files)  # warm the page cache for everyone
    preamble = "Classify this support ticket: "
    hp = {"epochCount": 5, "batchSize": 16, "learningRate": 0.001}
    base = "models/gemini-1.5-flash-001-tuning"
    settings = Invocation.from_environ().settle()
    cache = settings.scan_cache or ScanCache(tree / ".fingerprints")
    jobs = [
        ScanJob.of(file_source(str(p), f"data/{p.name}", preamble=preamble), base, hp)
        for p in files
    ]

    def median(times: list[float]) -> float:
        return float(statistics.median(times))

    def hashing() -> tuple[float, float]:
        """Raw hashlib, then the cache's content hash (`dataset.digests`), in a process of
        their own: this one's heap is tuned for scanning once it has scanned
        (`keep_freed_blocks`), which makes ``f.read(1 MiB)`` fault in fresh pages every time
        and halves raw hashlib, flattering every ratio to it."""
        argv = [sys.executable, __file__, "hashlib", str(tree)]
        out = json.loads(
            subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
        )
        return float(out["hashlib_s"]), float(out["content_hash_s"])

    def scans(workers: int, empty: bool = True) -> float:
        if empty:
            shutil.rmtree(cache.directory, ignore_errors=True)
        t = time.perf_counter()
        Scans(cache, workers).prefetch(j for j in jobs if j is not None)
        return time.perf_counter() - t

    def fresh_clone() -> float:
        cache.index.unlink(missing_ok=True)  # the path entries: as in a fresh clone
        return scans(settings.scan_workers, empty=False)

    def without_compiled() -> float:
        compiled, layout.compiled = layout.compiled, None
        try:
            return scans(settings.scan_workers)  # forked workers inherit this too
        finally:
            layout.compiled = compiled

    # the runs interleaved, round after round, so that a machine that slows down for a while
    # (shared, noisy) weighs on every figure alike, not on whichever was measured then
    size = sum(p.stat().st_size for p in files)
    rounds = [
        (*hashing(), scans(1), without_compiled(), scans(settings.scan_workers))
        for _ in range(repeat)
    ]
    raw, content, serial, python, first = (
        median(list(times)) for times in zip(*rounds, strict=True)
    )
    compiled = layout.compiled
    opens = 0
    real_open = builtins.open

    def counting_open(file: Any, *a: Any, **k: Any) -> Any:
        nonlocal opens
        if str(file).endswith(".jsonl"):
            opens += 1
        return real_open(file, *a, **k)

    builtins.open = counting_open
    try:
        second = scans(settings.scan_workers, empty=False)
    finally:
        builtins.open = real_open
    clone = median([fresh_clone() for _ in range(repeat)])
    mb = size / 1e6
    return {
        "bytes": size,
        "repeat": repeat,
        "hashlib_mb_s": mb / raw,
        "content_hash_mb_s": mb / content,
        "serial_mb_s": mb / serial,
        "first_mb_s": mb / first,
        "python_mb_s": mb / python,
        "second_mb_s": mb / second,
        "clone_mb_s": mb / clone,
        "workers": settings.scan_workers,
        "first_s": first,
        "second_s": second,
        "hashlib_s": raw,
        "second_opens": opens,
        "compiled": compiled is not None,
        **tier0_ms_per_mb(files, preamble),
    }


def tier0_ms_per_mb(files: list[Path], preamble: str) -> dict[str, float]:
    """CPU time of tier 0 alone over every file's bytes, per MB (best of 5), compiled and in
    Python."""
    from gitops_tune.dataset import layout

    blobs = [p.read_bytes() for p in files]
    mb = sum(map(len, blobs)) / 1e6

    def best() -> float:
        times = []
        for _ in range(5):
            t = time.process_time()
            for blob in blobs:
                layout.pairs_block(blob, True, "text_input", "output", preamble)
            times.append(time.process_time() - t)
        return min(times) * 1000 / mb

    compiled = layout.compiled
    out = {"tier0_compiled_ms_mb": best() if compiled is not None else float("nan")}
    layout.compiled = None
    out["tier0_python_ms_mb"] = best()
    layout.compiled = compiled
    return out


def main() -> int:
    mode, tree = sys.argv[1], Path(sys.argv[2])
    if mode == "floor":
        out = floor(tree)
    elif mode == "refresh":
        out = refresh(tree)
    elif mode == "creates":
        out = creates(tree, int(sys.argv[3]))
    elif mode == "hashlib":
        from gitops_tune.dataset.digests import file_digest

        files = datasets(tree)
        sha256_files(files)  # the page cache warm, as for the scans
        t = time.perf_counter()
        sha256_files(files)
        out = {"hashlib_s": time.perf_counter() - t}
        t = time.perf_counter()
        for p in files:
            file_digest(str(p))
        out["content_hash_s"] = time.perf_counter() - t
    elif mode == "fingerprint":
        out = fingerprint(tree, int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    out["total_s"] = time.perf_counter() - T0
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
