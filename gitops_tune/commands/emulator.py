"""``gitops-tune emulator``: run the emulator until interrupted; for Vertex AI, also create the
staging bucket, write a credentials file and print the environment to export."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, cast

from gitops_tune.backends import DEFAULT_DIALECT, DIALECTS, GEMINI_API, VERTEX_API
from gitops_tune.errors import UserError

if TYPE_CHECKING:
    from gitops_tune.emulator.faults import FaultMode
    from gitops_tune.emulator.server import RunningEmulator


def run(
    host: str = "127.0.0.1",
    port: int = 8765,
    db: str | None = None,
    train_seconds: float = 30.0,
    latency_ms: int = 0,
    fault_rate: float = 0.0,
    fault_codes: str = "429,503",
    fault_mode: str = "before",
    base_models: tuple[str, ...] = (),
    record_dir: str | None = None,
    dialect: str = DEFAULT_DIALECT,
    bucket: str = "gitops-tune-staging",
    project: str = "emulator",
    location: str = "us-central1",
    operation_seconds: float = 2.0,
    refuse_model_delete: bool = False,
    api_keys: tuple[str, ...] = (),
    catalog: str = "documented",
    degrade_models: tuple[str, ...] = (),
) -> int:
    """Serve, print the base URL (one flushed line), block until SIGINT/SIGTERM, return 0."""
    from gitops_tune.emulator.server import EmulatorConfig, start

    codes = _checked(fault_codes, fault_mode, train_seconds, latency_ms, fault_rate)
    if operation_seconds < 0:
        raise UserError("--operation-seconds: must be >= 0")
    _check_keys_and_catalog(api_keys, catalog)
    config = EmulatorConfig(
        host=host,
        port=port,
        db_path=db,
        train_seconds=train_seconds,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        fault_codes=codes,
        fault_mode=cast("FaultMode", fault_mode),  # checked against FAULT_MODES by _checked
        base_models=tuple(base_models),
        record_dir=record_dir,
        operation_seconds=operation_seconds,
        refuse_model_delete=refuse_model_delete,
        api_keys=tuple(api_keys),
        catalog=catalog,
        degrade_models=_degraded(degrade_models),
    )
    try:
        running = start(config)
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    try:
        lines = _environment(running.url, dialect, bucket, project, location)
    except UserError:
        running.stop()
        raise
    return _serve(running, lines)


def _serve(running: RunningEmulator, environment: list[str]) -> int:
    """Print the URL and the environment to export, then serve until SIGINT or SIGTERM; stop
    cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(running.url, flush=True)
        for line in environment:
            print(line, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    print("emulator stopped", file=sys.stderr, flush=True)
    return 0


def _checked(
    fault_codes: str, fault_mode: str, train_seconds: float, latency_ms: int, fault_rate: float
) -> tuple[int, ...]:
    """The fault codes, once every fault and timing option is known to be valid."""
    from gitops_tune.emulator.faults import FAULT_MODES, FaultConfigError, parse_fault_codes

    try:
        codes = parse_fault_codes(fault_codes)
    except FaultConfigError as e:
        raise UserError(f"--fault-codes: {e}") from None
    if fault_mode not in FAULT_MODES:
        raise UserError(f"--fault-mode: must be one of {', '.join(FAULT_MODES)}")
    if train_seconds < 0:
        raise UserError("--train-seconds: must be >= 0")
    if latency_ms < 0:
        raise UserError("--latency-ms: must be >= 0")
    if not 0 <= fault_rate <= 1:
        raise UserError("--fault-rate: must be between 0 and 1")
    return codes


def _degraded(names: tuple[str, ...]) -> tuple[str, ...]:
    from gitops_tune.emulator.degrade import DegradeError, parse

    try:
        return parse(names)
    except DegradeError as e:
        raise UserError(f"--degrade-model: {e}") from None


def _check_keys_and_catalog(api_keys: tuple[str, ...], catalog: str) -> None:
    from gitops_tune.emulator.callers import KeyConfigError, parse_keys
    from gitops_tune.emulator.gemini.catalog import CatalogError, load

    try:
        parse_keys(api_keys)
        load(catalog)
    except (KeyConfigError, CatalogError) as e:
        raise UserError(str(e)) from None


def _environment(url: str, dialect: str, bucket: str, project: str, location: str) -> list[str]:
    """The lines to export for ``dialect`` (after setting the Vertex AI side up)."""
    lines = []
    wanted = set(DIALECTS) if dialect == "both" else {dialect}
    if GEMINI_API.name in wanted:
        lines += [f"export GOOGLE_GEMINI_BASE_URL={url}", "export GEMINI_API_KEY=emulator"]
    if VERTEX_API.name in wanted:
        _create_bucket(url, bucket, project)
        lines += [
            f"export GOOGLE_VERTEX_BASE_URL={url}",
            f"export STORAGE_EMULATOR_HOST={url}",
            f"export GOOGLE_CLOUD_PROJECT={project}",
            f"export GOOGLE_CLOUD_LOCATION={location}",
            f"export GITOPS_TUNE_STAGING_BUCKET=gs://{bucket}",
            f"export GOOGLE_APPLICATION_CREDENTIALS={_credentials_file()}",
        ]
    return lines


def _create_bucket(url: str, bucket: str, project: str) -> None:
    request = urllib.request.Request(
        f"{url}/storage/v1/b?project={project}",
        data=json.dumps({"name": bucket}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(request, timeout=10).read()
    except urllib.error.HTTPError as e:
        if e.code != 409:  # already there (a --db file reused)
            raise UserError(f"--bucket {bucket}: the emulator refused it: {e}") from None


def _credentials_file() -> Path:
    """Application Default Credentials for google-auth: an ``authorized_user`` file whose
    token and far-future expiry make google-auth send the token without ever refreshing it.
    The token is a fixed placeholder: the emulator accepts any bearer token."""
    folder = Path(tempfile.mkdtemp(prefix="gitops-tune-emulator-"))
    path = folder / "credentials.json"
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "emulator",
                "client_secret": "emulator",
                "refresh_token": "emulator",
                "token": "emulator-token",
                "expiry": "2999-01-01T00:00:00Z",
            }
        )
    )
    return path
