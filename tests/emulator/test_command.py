"""``gitops-tune emulator`` as a user runs it: prints its URL, serves, stops on a signal."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.emu_helpers import Api


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitops_tune", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_until_signalled(tmp_path: Path, sig: signal.Signals) -> None:
    proc = spawn("--db", str(tmp_path / "e.db"), "--train-seconds", "1")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        api = Api(url)
        assert api.create("cli").status_code == 200
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert (tmp_path / "e.db").exists()


def test_bad_fault_codes_are_one_clean_line() -> None:
    proc = spawn("--fault-codes", "429,404")
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert err.strip().splitlines() == [
        "error: --fault-codes: unsupported fault code 404: use 429, 500, 503"
    ]


def test_run_rejects_bad_options_directly() -> None:
    from gitops_tune.commands.emulator import run
    from gitops_tune.errors import UserError

    with pytest.raises(UserError, match="fault-codes"):
        run(fault_codes="")
    with pytest.raises(UserError, match="fault-mode"):
        run(fault_mode="never")
    with pytest.raises(UserError, match="--api-key 'k=x'"):
        run(api_keys=("k=x",))


def test_vertex_dialect_sets_up_the_bucket_and_prints_the_environment(tmp_path: Path) -> None:
    import json

    from tests.harness import request_json

    proc = spawn("--dialect", "vertex", "--bucket", "stage", "--train-seconds", "1")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        env = dict(
            proc.stdout.readline().strip().removeprefix("export ").split("=", 1) for _ in range(6)
        )
        assert env["GOOGLE_VERTEX_BASE_URL"] == url == env["STORAGE_EMULATOR_HOST"]
        assert env["GITOPS_TUNE_STAGING_BUCKET"] == "gs://stage"
        assert request_json(url, "GET", "storage/v1/b/stage")["name"] == "stage"
        credentials = json.loads(Path(env["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
        assert credentials["type"] == "authorized_user" and credentials["token"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_degrade_model_takes_names() -> None:
    from gitops_tune.commands.emulator import run
    from gitops_tune.errors import UserError

    with pytest.raises(UserError, match="--degrade-model: "):
        run(degrade_models=("",))
