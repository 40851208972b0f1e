"""Fixtures: an emulator on an ephemeral loopback port (1 s jobs) and a raw HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from tests.emulator.emu_helpers import Api


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start(EmulatorConfig(port=0, train_seconds=1.0)) as running:
        yield running


@pytest.fixture
def api(emulator: RunningEmulator) -> Iterator[Api]:
    client = Api(emulator.url)
    yield client
    client.close()
