"""The pipeline examples (examples/ci/) and the pre-commit hook: every `gitops-tune` command
line they run must be one the CLI accepts, and the files must say what the docs promise."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from gitops_tune import log
from gitops_tune.cli import main
from gitops_tune.desired import load
from gitops_tune.render import MARKDOWN_MARKER
from gitops_tune.settings import Invocation
from tests import ROOT

GITHUB = ROOT / "examples/ci/.github/workflows/gitops-tune.yml"
ACTION = ROOT / "action.yml"
GITLAB = ROOT / "examples/ci/.gitlab/gitops-tune.gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PIPELINES = [GITHUB, GITLAB]
# Shell words that end a command: what follows is another command or a redirection.
_STOP = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "<", "&"}


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def command_lines(text: str) -> list[list[str]]:
    """Every `gitops-tune ...` invocation in a shell script, as argv after the program name.
    Continuation lines are joined and ``$VARS`` become a sample value."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        if "gitops-tune " not in line or line.startswith("#"):
            continue
        words = shlex.split(line)
        for i, word in enumerate(words):
            if word == "gitops-tune":
                argv = []
                for w in words[i + 1 :]:
                    if w in _STOP or w.startswith(">"):
                        break
                    argv.append(re.sub(r"\$\{?[A-Z_]+\}?", "models/", w))
                out.append(argv)
    return out


def accepted(argv: list[str]) -> None:
    """Parse argv as the CLI would, without running the command: group options, then the
    subcommand's options and arguments (types, choices and ranges included)."""
    names = [i for i, w in enumerate(argv) if w in main.commands]
    assert names, f"no gitops-tune command in {argv}"
    at = names[0]
    try:
        ctx = main.make_context("gitops-tune", [*argv[:at], "validate"])
        command = main.commands[argv[at]]
        command.make_context(argv[at], argv[at + 1 :], parent=ctx)
    except click.UsageError as e:
        pytest.fail(f"gitops-tune {shlex.join(argv)}: {e.format_message()}")
    finally:
        log.reset()


def pipeline_commands(path: Path) -> list[list[str]]:
    doc = yaml.safe_load(path.read_text())
    return [argv for text in strings(doc) for argv in command_lines(text)]


def test_the_command_line_extractor() -> None:
    script = (
        'set +e\ngitops-tune plan --format markdown \\\n  --detailed-exitcode "$MANIFESTS" '
        "> plan.md\ncode=$?\nx && gitops-tune validate ${MANIFESTS} # check\n"
    )
    assert command_lines(script) == [
        ["plan", "--format", "markdown", "--detailed-exitcode", "models/"],
        ["validate", "models/"],
    ]


def test_a_bad_command_line_is_caught() -> None:
    with pytest.raises(pytest.fail.Exception, match="no-such-flag"):
        accepted(["plan", "--no-such-flag"])
    with pytest.raises(pytest.fail.Exception, match="'yaml' is not one of"):
        accepted(["plan", "--format", "yaml"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [(GITHUB, {"apply"}), (GITLAB, {"validate", "plan", "apply"})],
    ids=lambda p: getattr(p, "name", ""),
)
def test_every_gitops_tune_command_in_the_pipelines_is_accepted(
    path: Path, expected: set[str]
) -> None:
    commands = pipeline_commands(path)
    assert {argv[0] for argv in commands} == expected  # GitHub: validate and plan in action.yml
    for argv in commands:
        accepted(argv)


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.name)
def test_pipelines_plan_in_review_and_apply_on_main(path: Path) -> None:
    commands = [shlex.join(a) for a in pipeline_commands(path)]
    text = path.read_text()
    if path == GITHUB:  # the plan runs in the action
        text = ACTION.read_text()
        assert "--format markdown --detailed-exitcode" in text and "--base" in text
    else:
        plan = [c for c in commands if c.startswith("plan ")]
        assert plan and all("--format markdown --detailed-exitcode" in c for c in plan)
        assert all("--base" in c for c in plan)
    apply = [c for c in commands if c.startswith("apply ")]
    assert apply and all("--auto-approve" in c for c in apply)
    assert MARKDOWN_MARKER in text  # the sticky comment is found by the plan's own marker
    assert '"$code" -eq 1' in text  # exit 2 (changes) is a success, 1 fails the job


def test_github_workflow_triggers_and_concurrency() -> None:
    doc = yaml.safe_load(GITHUB.read_text())
    triggers = doc[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) >= {"pull_request", "push"}
    assert triggers["push"]["branches"] == ["main"]
    plan, apply = doc["jobs"]["plan"], doc["jobs"]["apply"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    assert plan["permissions"]["pull-requests"] == "write"
    assert apply["concurrency"] == {"group": "gitops-tune-apply", "cancel-in-progress": False}
    action = next(s for s in plan["steps"] if "/gitops-tune@" in s.get("uses", ""))
    assert action["with"]["base"] == "${{ github.event.pull_request.base.sha }}"
    for job in (plan, apply):  # keyless for Vertex AI: Workload Identity Federation
        assert job["permissions"]["id-token"] == "write"
        auth = next(s for s in job["steps"] if s.get("uses", "").startswith("google-github"))
        assert set(auth["with"]) == {"workload_identity_provider", "service_account"}
    assert doc["env"]["GEMINI_API_KEY"] == "${{ secrets.GEMINI_API_KEY }}"


def test_gitlab_pipeline_note_and_resource_group() -> None:
    doc = yaml.safe_load(GITLAB.read_text())
    plan, apply = doc["gitops-tune:plan"], doc["gitops-tune:apply"]
    assert plan["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert apply["resource_group"] == "gitops-tune-apply"
    note = next(s for s in plan["script"] if "<<'PY'" in s)
    source = note.split("<<'PY'\n", 1)[1].rsplit("PY", 1)[0]
    compile(source, "gitlab-note", "exec")  # the embedded script is valid Python
    assert '"PUT"' in source and '"POST"' in source
    assert doc[".gitops-tune"]["id_tokens"]["GCP_ID_TOKEN"]["aud"].startswith(
        "https://iam.googleapis.com/"
    )


def test_ci_examples_do_not_disturb_the_example_manifests() -> None:
    state = load([str(ROOT / "examples")], Invocation.from_environ())
    assert [m.name for m in state.models] == ["next-number", "ticket-router"]


def test_pre_commit_hook() -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["id"] == "gitops-tune-validate"
    assert hook["entry"] == "gitops-tune validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    for name in ("models/a.yaml", "b.yml", "data/x.jsonl", "d.csv", "e.json"):
        assert re.search(hook["files"], name), name
    assert not re.search(hook["files"], "README.md")
    accepted([*shlex.split(hook["entry"])[1:], "models/"])


def test_hidden_yaml_files_are_not_manifests(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    (tmp_path / ".gitlab-ci.yml").write_text("stages: [test]\n")
    manifest = (ROOT / "examples" / "tuning.yaml").read_text()
    (tmp_path / "tuning.yaml").write_text(manifest)
    (tmp_path / "data").mkdir()
    for name in ("support-tickets.jsonl", "support-tickets-heldout.jsonl"):
        data = (ROOT / "examples" / "data" / name).read_bytes()
        (tmp_path / "data" / name).write_bytes(data)
    assert len(load([str(tmp_path)], Invocation.from_environ()).models) == 2


def fingerprint_caches(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps that keep `.gitops-tune/fingerprints` in the Actions cache."""
    return [s for s in steps if "actions/cache" in s.get("uses", "")]


def assert_saved_every_run(cache: dict[str, Any]) -> None:
    """The path, a key of its own for every run (an exact hit is never saved again, so a key
    that matched for ever would keep entries of an older cache format for ever), and the
    newest earlier cache restored."""
    assert cache["with"]["path"] == ".gitops-tune/fingerprints"
    assert "${{ github.run_id }}-${{ github.run_attempt }}" in cache["with"]["key"]
    assert cache["with"]["key"].startswith(cache["with"]["restore-keys"])


def test_pipelines_keep_the_fingerprint_cache_between_runs() -> None:
    """Issue 16: a fresh checkout restores `.gitops-tune/fingerprints` from the CI cache: the
    apply job itself, the plan job through the action (tests/test_action.py)."""
    github = yaml.safe_load(GITHUB.read_text())
    (apply_cache,) = fingerprint_caches(github["jobs"]["apply"]["steps"])
    assert_saved_every_run(apply_cache)
    plan = github["jobs"]["plan"]["steps"]
    assert not fingerprint_caches(plan)  # the action's, not a second one
    (action,) = [s for s in plan if "gitops-tune@" in s.get("uses", "")]
    assert action["with"].get("fingerprint-cache", "true") == "true"
    gitlab = yaml.safe_load(GITLAB.read_text())
    assert gitlab[".gitops-tune"]["cache"]["paths"] == [".gitops-tune/fingerprints/"]
