"""Fixtures of the conformance suite. The product never runs in this venv: its route table and
its emulator come from the product's own Python (``--product-python``, default
``.venv/bin/python`` at the repository root), as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "conformance" / "corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--product-python",
        default=os.environ.get("GITOPS_TUNE_PYTHON", str(ROOT / ".venv" / "bin" / "python")),
        help="the Python that has gitops-tune installed (default: .venv/bin/python)",
    )
    parser.addoption(
        "--corpus",
        default=str(DEFAULT_CORPUS),
        help="the folder `python -m pytest --record-wire DIR` filled (default: conformance/corpus)",
    )


def product_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="session")
def product_python(request: pytest.FixtureRequest) -> str:
    python = str(request.config.getoption("--product-python"))
    if not Path(python).exists():
        pytest.fail(f"--product-python {python} does not exist (create .venv first)")
    return python


def routes_of(python: str) -> list[dict[str, Any]]:
    """The emulator's route table, from the product's own Python."""
    out = subprocess.run(
        [python, "-m", "gitops_tune.emulator.routes"],
        check=True,
        capture_output=True,
        text=True,
        env=product_env(),
        cwd=ROOT,
    )
    return list(json.loads(out.stdout))


@pytest.fixture(scope="session")
def emulator_routes(product_python: str) -> list[dict[str, Any]]:
    return routes_of(product_python)


def load_corpus(folder: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return records


@pytest.fixture(scope="session")
def corpus(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    folder = Path(request.config.getoption("--corpus"))
    records = load_corpus(folder) if folder.is_dir() else []
    if not records:
        pytest.fail(
            f"no recorded exchanges in {folder}: run the product's tests first with "
            f"`python -m pytest --record-wire {folder}` (see conformance/README.md)"
        )
    return records


@dataclass(frozen=True)
class Served:
    url: str  # http://127.0.0.1:PORT
    wire: str  # the folder the emulator records its exchanges in


@pytest.fixture(scope="module")
def emulator(product_python: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A `gitops-tune emulator` subprocess (1 s jobs), recording into ``<tmp>/wire``."""
    record = tmp_path_factory.mktemp("wire")
    command = [product_python, "-m", "gitops_tune", "emulator", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--train-seconds", "1", "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        env=product_env(),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        pytest.fail(f"the emulator did not start (printed {url!r})")
    try:
        yield Served(url, str(record))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
