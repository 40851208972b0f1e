"""The ``local`` backend: the project's emulator, started in-process on a loopback port and
persisted under ``.gitops-tune/``. It speaks either dialect, chosen with
``GITOPS_TUNE_LOCAL_DIALECT`` or the Workspace's ``spec.local.dialect`` (default ``gemini``):
the Gemini API, driven by the very same Gemini provider as the real API, or Vertex AI plus
Cloud Storage, driven by the very same Vertex provider."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.providers.gemini import GeminiProvider

LOCAL_KEY = "local-emulator-key"  # a throwaway: the emulator only checks that one is sent
LOCAL_TOKEN = "local-emulator-token"  # likewise for the Vertex dialect's bearer token
LOCAL_PROJECT, LOCAL_LOCATION, LOCAL_BUCKET = "local", "us-central1", "gitops-tune-local"

if TYPE_CHECKING:
    from gitops_tune.settings import Settings


class LocalProvider(GeminiProvider):
    def __init__(self, running: RunningEmulator) -> None:
        super().__init__(api_key=LOCAL_KEY, base_url=running.url)
        self.running = running  # keeps the in-process server alive as long as the provider


def open(settings: Settings) -> Any:
    """The emulator, speaking the API of the backend's record."""
    running = _start(settings.home, settings.local_train_seconds)
    if settings.backend.api.stages_local_data:
        return _open_vertex(running)
    return LocalProvider(running)


def _start(folder: Path, seconds: float) -> RunningEmulator:
    folder.mkdir(parents=True, exist_ok=True)
    return start(
        EmulatorConfig(
            host="127.0.0.1", port=0, db_path=str(folder / "local.db"), train_seconds=seconds
        )
    )


def _open_vertex(running: RunningEmulator) -> Any:
    from gitops_tune.providers.vertex import VertexProvider

    provider = VertexProvider(
        LOCAL_PROJECT,
        LOCAL_LOCATION,
        LOCAL_BUCKET,
        credentials=_token_credentials(),
        base_url=running.url,
        storage_endpoint=running.url,
    )
    provider.running = running  # type: ignore[attr-defined]
    if running.store.get_doc("gcs-bucket", LOCAL_BUCKET) is None:
        provider.staging.storage.create_bucket(LOCAL_BUCKET)
    return provider


def _token_credentials() -> Any:
    """A fixed bearer token for the in-process emulator (never sent anywhere else)."""
    from google.auth.credentials import Credentials

    class EmulatorToken(Credentials):
        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.token = LOCAL_TOKEN

        def refresh(self, request: Any) -> None:
            pass

    return EmulatorToken()
