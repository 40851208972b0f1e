#!/usr/bin/env python3
"""What the media check of a chat dataset asks Cloud Storage: `gitops-tune validate` on the
vertex backend over one dataset whose examples hold N image ``fileData`` parts, spread over
F folders of one bucket, every object in the emulator's Cloud Storage. The requests are
counted by the emulator (``/_emulator/stats``). The claim it checks: one listing per folder,
no request per object. Cloud Storage returns at most 1,000 objects a page, so a listing of a
folder of K objects takes ceil(K / 1,000) list requests: at most two per folder up to 2,000
objects a folder (the default: 10,000 parts in 5 folders).

    python bench/media_check.py                          # N=10,000, F=5
    python bench/media_check.py --folders 1              # 10,000 in one folder: 10 pages
    python bench/media_check.py --parts 500              # quicker
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import _vertex_env as vertex_env  # noqa: E402

from tests.harness import request_json  # noqa: E402

BUCKET, PROJECT, LOCATION = "bench-media", "bench", "us-central1"
FOLDERS = 5


def name_of(i: int) -> str:
    return f"receipts/{i % FOLDERS}/{i}.png"


def upload(url: str, i: int) -> None:
    request = urllib.request.Request(
        f"{url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={name_of(i)}",
        data=b"\x89PNG" + i.to_bytes(4, "big"),
        method="POST",
        headers={"Content-Type": "image/png"},
    )
    urllib.request.urlopen(request).read()


def write_repo(root: Path, parts: int) -> None:
    rows = []
    for i in range(parts):
        image = {"fileData": {"mimeType": "image/png", "fileUri": f"gs://{BUCKET}/{name_of(i)}"}}
        rows.append(
            {
                "contents": [
                    {"role": "user", "parts": [image, {"text": "Which store?"}]},
                    {"role": "model", "parts": [{"text": f"store {i % 7}"}]},
                ]
            }
        )
    (root / "receipts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    docs = [
        {
            "apiVersion": "gitops-tune/v1",
            "kind": "Workspace",
            "metadata": {"name": "bench"},
            "spec": {"backend": "vertex", "vertex": {"stagingBucket": f"gs://{BUCKET}"}},
        },
        {
            "apiVersion": "gitops-tune/v1",
            "kind": "TunedModel",
            "metadata": {"name": "receipts"},
            "spec": {"baseModel": "gemini-2.5-flash", "dataset": {"path": "receipts.jsonl"}},
        },
    ]
    (root / "tuning.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=10_000)
    parser.add_argument("--folders", type=int, default=FOLDERS)
    args = parser.parse_args()
    n, folders = args.parts, args.folders
    globals()["FOLDERS"] = folders
    with vertex_env.emulated(BUCKET, PROJECT) as (url, root, adc):
        write_repo(root, n)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: upload(url, i), range(n)))
        print(f"uploaded {n} objects in {time.monotonic() - started:.1f} s")
        before = request_json(url, "GET", "_emulator/stats")["requests"]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "gitops_tune", "validate", str(root)],
            env=vertex_env.environment(url, adc, PROJECT, LOCATION),
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        after = request_json(url, "GET", "_emulator/stats")["requests"]
        made = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        made.pop("GET /_emulator/stats", None)
        print(f"validate over {n} fileData parts in {folders} folders: exit {done.returncode}")
        print(f"  {seconds:.1f} s; requests by route:")
        for route, count in sorted(made.items()):
            print(f"  {count:5d}  {route}")
        lists = made.get("GET /storage/v1/b/{bucket}/o", 0)
        bucket = made.get("GET /storage/v1/b/{bucket}", 0)  # google-cloud-storage's own, once
        other = sum(made.values()) - lists - bucket
        per_folder = math.ceil(n / folders)
        pages = math.ceil(per_folder / 1000)
        print(
            f"list requests: {lists} ({lists / folders:.1f} per folder; Cloud Storage's "
            f"1,000-a-page cap makes {pages} per folder); bucket GETs: {bucket}; other: {other}"
        )
        if done.returncode:
            print(done.stdout, done.stderr)
        ok = done.returncode == 0 and lists <= pages * folders and bucket <= 1 and other == 0
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
