"""Secrets: the API key never appears in anything gitops-tune writes.

Every command runs with a canary key, in every output format, with and without ``--debug``,
including failing runs (a refused create, a missing model, an unreachable API) and an internal
error under ``--debug`` (a traceback); the test searches stdout, stderr, saved plans, markdown,
``.gitops-tune/`` and every other file under the test's folder, the emulator's SQLite file
included. It also checks the emulator binds loopback unless told otherwise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.providers.local import _start
from tests.reliability.conftest import API_KEY, Repo, create_raw, wait_active

SEEN: list[str] = []


def _texts(result: Result) -> list[str]:
    return [result.stdout, result.stderr if result.stderr_bytes is not None else ""]


def check(texts: list[str], what: str) -> None:
    SEEN.append(what)
    for text in texts:
        assert API_KEY not in text, f"{what}: the key leaked:\n{text}"


class _Echo(BaseHTTPRequestHandler):
    """A hostile or broken API: 200s with garbage for lists, and errors that echo the
    request's headers (the key among them) back in the message."""

    def _answer(self) -> None:
        headers = dict(self.headers.items())
        if _Echo.garbage and self.command == "GET" and "tunedModels" in self.path:
            body: Any = {"tunedModels": [{"description": 5, "echo": headers}]}
            status = 200
        else:
            body = {"error": {"code": 500, "message": f"echo {headers}", "status": "INTERNAL"}}
            status = 500
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    garbage = False
    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_key_never_appears_in_output_files_or_errors(
    repo: Repo, emulator: RunningEmulator, tmp_path: Path, echo_server: str
) -> None:
    repo.write("alpha", description="first")
    repo.write("beta")
    plan_file = tmp_path / "saved-plan.json"
    runs: list[tuple[str, ...]] = [
        ("validate", str(repo.root)),
        ("validate", "--format", "json", str(repo.root)),
        ("schema",),
        ("schema", "--plan"),
        ("plan",),
        ("plan", "--format", "json"),
        ("plan", "--format", "markdown"),
        ("plan", "--out", str(plan_file)),
        ("plan", "--detailed-exitcode", "--log-format", "json"),
        ("apply", "--auto-approve", "--plan", str(plan_file)),
        ("apply", "--auto-approve", "--wait", "--timeout", "60s"),
        ("apply", "--auto-approve", "--log-format", "json"),
        ("status",),
        ("status", "--format", "json"),
        ("output",),
        ("output", "--format", "json"),
        ("import", "alpha", "tunedModels/does-not-exist", str(repo.root)),
        ("plan", "--target", "nope"),
        ("emulator", "--help"),
        ("apply", "--help"),
    ]
    for args in runs:
        for debug in ((), ("--debug",)):
            result = repo.cli(*debug, *args)
            check(_texts(result), " ".join((*debug, *args)))

    # Failing applies: a create refused because another workspace holds the ID, and a
    # FAILED model.
    create_raw(repo.url, "someone-else-model", "unmanaged")
    wait_active(repo.url)
    result = repo.cli("import", "alpha", "tunedModels/someone-else-model", str(repo.root))
    check(_texts(result), "import (refused: alpha is already managed)")
    repo.write("gamma", displayName="EMULATOR_FAIL please")
    result = repo.apply("--wait")
    assert result.exit_code == 1
    check(_texts(result), "apply (a model FAILED)")
    result = repo.cli("destroy", "--auto-approve")
    check(_texts(result), "destroy")
    assert result.exit_code == 0

    # The real processes, so that anything the SDK or Python itself prints is seen too.
    sub_runs: list[tuple[str, ...]] = [
        ("--debug", "plan"),
        ("--debug", "apply", "--auto-approve", "--wait", "--timeout", "60s"),
        ("emulator", "--help"),
    ]
    for args in sub_runs:
        done = repo.run(*args)
        check([done.stdout, done.stderr], "subprocess " + " ".join(args))

    # An unreachable API, and a broken one that echoes the key back in its errors: the
    # failures, the internal error (a malformed model) and its --debug traceback.
    for url, garbage in (("http://127.0.0.1:9", False), (echo_server, False), (echo_server, True)):
        _Echo.garbage = garbage
        broken = Repo(repo.root, url, extra_env={"GITOPS_TUNE_RETRY_ATTEMPTS": "2"})
        for args in (("plan",), ("--debug", "plan"), ("apply", "--auto-approve")):
            done = broken.run(*args)
            assert done.returncode == 1, (url, args, done.stdout, done.stderr)
            check([done.stdout, done.stderr], f"{url}: " + " ".join(args))
        result = broken.cli("import", "alpha", "tunedModels/x", str(repo.root))
        check(_texts(result), f"{url}: import")

    # Everything written under the test's folder: saved plans, .gitops-tune/, the emulator db.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert plan_file in written
    assert any(".gitops-tune" in str(p) or "home" in p.parts for p in written)
    for path in written:
        assert API_KEY.encode() not in path.read_bytes(), f"the key is in {path}"
    plan_doc = json.loads(plan_file.read_text())
    flat = json.dumps(plan_doc).lower()
    assert "api_key" not in flat and "apikey" not in flat and "x-goog-api-key" not in flat
    print(f"secrets: {len(SEEN)} command runs and {len(written)} files searched")


def test_the_emulator_binds_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    assert EmulatorConfig().host == "127.0.0.1"
    from gitops_tune.cli import main

    host_option = next(p for p in main.commands["emulator"].params if p.name == "host")
    assert host_option.default == "127.0.0.1"
    with start(EmulatorConfig(port=0)) as running:
        assert running.host == "127.0.0.1"
    local = _start(tmp_path / "local-home", 1.0)  # the local backend's in-process emulator
    try:
        assert local.url.startswith("http://127.0.0.1:")
    finally:
        local.stop()
