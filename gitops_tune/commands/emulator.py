"""``gitops-tune emulator``: run the Gemini tuned-model API emulator until interrupted."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

from gitops_tune.errors import UserError

if TYPE_CHECKING:
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
    api_keys: tuple[str, ...] = (),
    catalog: str = "documented",
) -> int:
    """Serve, print the base URL (one flushed line), block until SIGINT/SIGTERM, return 0."""
    from gitops_tune.emulator.callers import KeyConfigError, parse_keys
    from gitops_tune.emulator.faults import FAULT_MODES, FaultConfigError, parse_fault_codes
    from gitops_tune.emulator.gemini.catalog import CatalogError, load
    from gitops_tune.emulator.server import EmulatorConfig, start

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
    try:
        parse_keys(api_keys)
        load(catalog)
    except (KeyConfigError, CatalogError) as e:
        raise UserError(str(e)) from None
    config = EmulatorConfig(
        host=host,
        port=port,
        db_path=db,
        train_seconds=train_seconds,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        fault_codes=codes,
        fault_mode=fault_mode,  # narrowed by the FAULT_MODES check above
        base_models=tuple(base_models),
        record_dir=record_dir,
        api_keys=tuple(api_keys),
        catalog=catalog,
    )
    try:
        running = start(config)
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return _serve(running)


def _serve(running: RunningEmulator) -> int:
    """Print the URL, then serve until SIGINT or SIGTERM; stop cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(running.url, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    print("emulator stopped", file=sys.stderr, flush=True)
    return 0
