"""The ``local`` backend: the project's emulator, started in-process on a loopback port and
persisted under ``.gitops-tune/``. It speaks either dialect, chosen with
``GITOPS_TUNE_LOCAL_DIALECT`` or the Workspace's ``spec.local.dialect`` (default ``gemini``):
the Gemini API, driven by the very same Gemini provider as the real API, or Vertex AI plus
Cloud Storage, driven by the very same Vertex provider."""

from __future__ import annotations

from typing import Any

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.paths import home
from gitops_tune.providers.base import ProviderError
from gitops_tune.providers.gemini import GeminiProvider

LOCAL_KEY = "local-emulator-key"  # a throwaway: the emulator only checks that one is sent
LOCAL_TOKEN = "local-emulator-token"  # likewise for the Vertex dialect's bearer token
LOCAL_PROJECT, LOCAL_LOCATION, LOCAL_BUCKET = "local", "us-central1", "gitops-tune-local"
DEFAULT_TRAIN_SECONDS = 10.0
DIALECTS = ("gemini", "vertex")


class LocalProvider(GeminiProvider):
    backend = "local"

    def __init__(self, running: RunningEmulator) -> None:
        super().__init__(api_key=LOCAL_KEY, base_url=running.url)
        self.running = running  # keeps the in-process server alive as long as the provider


def _start(seconds: float = DEFAULT_TRAIN_SECONDS) -> RunningEmulator:
    """The in-process emulator; ``seconds``: how long a tuning job trains."""
    folder = home()
    folder.mkdir(parents=True, exist_ok=True)
    return start(
        EmulatorConfig(
            host="127.0.0.1", port=0, db_path=str(folder / "local.db"), train_seconds=seconds
        )
    )


def open_local(dialect: str = "gemini", train_seconds: float = DEFAULT_TRAIN_SECONDS) -> Any:
    if dialect not in DIALECTS:
        raise ProviderError(f"local dialect {dialect!r}: must be one of {', '.join(DIALECTS)}")
    if dialect == "vertex":
        return _open_vertex(train_seconds)
    return LocalProvider(_start(train_seconds))


def _open_vertex(train_seconds: float) -> Any:
    from gitops_tune.providers.vertex import VertexProvider

    class LocalVertexProvider(VertexProvider):
        backend = "local"

    running = _start(train_seconds)
    provider = LocalVertexProvider(
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
