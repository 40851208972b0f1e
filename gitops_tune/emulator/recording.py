"""A wire recorder: every API exchange an emulator answers, as JSON lines in a corpus folder.

The conformance suite (``conformance/``, run in a venv of Google's own packages) parses each
recorded request and response body strictly into the official message of its route. Turn it
on for one emulator with ``EmulatorConfig(record_dir=...)`` (``gitops-tune emulator
--record DIR``), or for every emulator of a process with `record_all` (what the test suite's
``--record-wire DIR`` option does).

One line per exchange::

    {"route": "POST /v1beta/tunedModels", "path": "/v1beta/tunedModels", "query": {...},
     "status": 200, "request": {...} | null, "response": {...} | null,
     "client": "google-genai-sdk/3.6.1 gl-python/3.11.7 gitops-tune/0.1.0"}

Bodies that are not JSON objects (media uploads and downloads) are recorded as null.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class WireRecorder:
    """Appends exchanges to ``<folder>/wire-<pid>.jsonl``; thread-safe, one file per process."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path = self.folder / f"wire-{os.getpid()}.jsonl"
        self._lock = threading.Lock()

    def record(
        self,
        route: str,
        path: str,
        query: Mapping[str, Sequence[str]],
        headers: Mapping[str, str],
        request: bytes,
        status: int,
        response: object,
    ) -> None:
        line = {
            "route": route,
            "path": path,
            "query": {k: list(v) for k, v in query.items()},
            "status": status,
            "request": _json_object(request),
            "response": response if isinstance(response, dict) else None,
            "client": headers.get("user-agent", ""),
        }
        text = json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write(text)


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body.strip():
        return None
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


_process_recorder: WireRecorder | None = None


def record_all(folder: str | Path | None) -> None:
    """Record the exchanges of every emulator this process starts from now on (None: stop)."""
    global _process_recorder
    _process_recorder = WireRecorder(folder) if folder is not None else None


def process_recorder() -> WireRecorder | None:
    return _process_recorder
