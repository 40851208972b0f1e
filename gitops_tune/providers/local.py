"""The ``local`` backend: the project's emulator, started in-process on a loopback port and
persisted under ``.gitops-tune/``, driven by the very same Gemini provider as the real API."""

from __future__ import annotations

import os
from pathlib import Path

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.providers.gemini import GeminiProvider

LOCAL_KEY = "local-emulator-key"  # a throwaway: the emulator only checks that one is sent
DEFAULT_TRAIN_SECONDS = 10.0


def home() -> Path:
    return Path(os.environ.get("GITOPS_TUNE_HOME", ".gitops-tune"))


class LocalProvider(GeminiProvider):
    backend = "local"

    def __init__(self, running: RunningEmulator) -> None:
        super().__init__(api_key=LOCAL_KEY, base_url=running.url)
        self.running = running  # keeps the in-process server alive as long as the provider


def open_local() -> LocalProvider:
    folder = home()
    folder.mkdir(parents=True, exist_ok=True)
    seconds = float(os.environ.get("GITOPS_TUNE_LOCAL_TRAIN_SECONDS", DEFAULT_TRAIN_SECONDS))
    running = start(
        EmulatorConfig(
            host="127.0.0.1", port=0, db_path=str(folder / "local.db"), train_seconds=seconds
        )
    )
    return LocalProvider(running)
