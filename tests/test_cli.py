"""What people expect of the command line: examples in every --help, global output options,
colour rules, a clear message when the optional plotting extra is missing, and the installed
command's output and exit code whole although it ends without the interpreter's teardown."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_tune import log
from gitops_tune.cli import main
from gitops_tune.commands.session import use_color
from gitops_tune.errors import UserError
from gitops_tune.loss import analyze
from gitops_tune.render.plot import INSTALL_HINT, write_png

COMMANDS = sorted(main.commands)


def test_every_command_is_covered() -> None:
    assert {"plan", "apply", "destroy", "status", "output", "import", "validate"} <= set(COMMANDS)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_has_an_example(command: str | None) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert "gitops-tune " + (command or "") in result.output.split("Example", 1)[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_global_output_options_are_accepted_before_and_after_the_command(command: str) -> None:
    for args in (
        ["-q", "--log-format", "json", "--no-color", command, "--help"],
        [command, "-q", "--log-format", "json", "--no-color", "--help"],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)


def test_log_format_from_the_environment_and_json_errors() -> None:
    result = CliRunner().invoke(
        main, ["validate", "does-not-exist"], env={"GITOPS_TUNE_LOG_FORMAT": "json"}
    )
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith('{"level": "error", "message": ')
    bad = CliRunner().invoke(main, ["--log-format", "yaml", "validate"])
    assert bad.exit_code == 1 and "'yaml' is not one of 'text', 'json'" in bad.stderr


def test_colour_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    log.reset()
    assert use_color()
    assert not use_color(no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color()
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: present but empty does not count
    assert use_color()
    log.configure(no_color=True)
    assert not use_color()
    log.reset()


def test_png_without_matplotlib_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    with pytest.raises(UserError) as e:
        write_png("x.png", "t", analyze([], finished=True), [])
    assert str(e.value) == INSTALL_HINT
    assert "pip install 'gitops-tune[plot]'" in INSTALL_HINT


def test_quiet_keeps_errors() -> None:
    result = CliRunner().invoke(main, ["-q", "validate", "does-not-exist"])
    assert result.exit_code == 1 and "does-not-exist" in result.stderr


def _installed(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``gitops-tune ARGS`` as its own process, as installed (`gitops_tune.cli.run`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPS_TUNE_")}
    return subprocess.run(
        [sys.executable, "-m", "gitops_tune", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=cwd,
    )


def test_the_installed_command_is_run() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "gitops-tune"]
    assert script.value == "gitops_tune.cli:run"


def test_the_installed_command_keeps_its_output_and_exit_codes(tmp_path: Path) -> None:
    expected = CliRunner().invoke(main, ["schema"])
    run = _installed("schema")
    assert run.returncode == expected.exit_code == 0
    assert run.stdout == expected.stdout
    (tmp_path / "m.yaml").write_text("apiVersion: gitops-tune/v1\nkind: TunedModel\n")
    run = _installed("validate", "m.yaml", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr.startswith("m.yaml:"), run.stderr
    run = _installed("no-such-command")
    assert run.returncode == 1 and "No such command" in run.stderr


def test_output_still_buffered_at_the_end_is_written() -> None:
    probe = (
        "import sys\nfrom gitops_tune import cli\n"
        "sys.stderr.write('no newline yet')\nsys.argv[1:] = ['--version']\ncli.run()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and run.stdout.startswith("gitops-tune, version")
    assert run.stderr == "no newline yet"


def test_a_profiled_command_still_writes_its_profile(tmp_path: Path) -> None:
    out = tmp_path / "plan.prof"
    argv = ["-m", "cProfile", "-o", str(out), "-m", "gitops_tune", "--version"]
    run = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.startswith("gitops-tune, version"), run.stderr
    assert out.stat().st_size > 0
