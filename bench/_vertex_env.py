"""What the Vertex AI benches share: the fake Application Default Credentials google-genai
and google-cloud-storage read, and the environment that points the CLI at the emulator."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_adc(path: Path) -> Path:
    """An ``authorized_user`` credentials file with a never-expiring fake token."""
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "bench",
                "client_secret": "bench",
                "refresh_token": "bench",
                "token": "bench-token",
                "expiry": "2999-01-01T00:00:00Z",
            }
        )
    )
    return path


def environment(url: str, adc: Path, project: str, location: str) -> dict[str, str]:
    """The caller's environment without Google settings, pointed at the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI", "GOOGLE"))}
    return env | {
        "PYTHONPATH": str(REPO),
        "GOOGLE_VERTEX_BASE_URL": url,
        "STORAGE_EMULATOR_HOST": url,
        "GOOGLE_CLOUD_PROJECT": project,
        "GOOGLE_CLOUD_LOCATION": location,
        "GOOGLE_APPLICATION_CREDENTIALS": str(adc),
    }


@contextlib.contextmanager
def emulated(bucket: str, project: str) -> Iterator[tuple[str, Path, Path]]:
    """An emulator whose jobs train at once, with ``bucket`` made: (its URL, a temporary
    folder, the credentials file in it)."""
    from gitops_tune.emulator.server import EmulatorConfig, start
    from tests.harness import request_json

    with (
        tempfile.TemporaryDirectory() as folder,
        start(EmulatorConfig(port=0, train_seconds=0.0)) as running,
    ):
        root = Path(folder)
        adc = write_adc(root / "adc.json")
        request_json(running.url, "POST", f"storage/v1/b?project={project}", {"name": bucket})
        yield running.url, root, adc
