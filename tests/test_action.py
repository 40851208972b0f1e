"""The reusable GitHub Action (action.yml): its shape, and its shell steps run for real, in
order, in a temporary git repository against the local backend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests import ROOT
from tests.conftest import Tree, rows, tuned_model
from tests.review.test_base import WORKSPACE, commit, git
from tests.test_ci_examples import assert_saved_every_run, fingerprint_caches

ACTION = ROOT / "action.yml"


def action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return doc


def test_the_action_is_composite_with_its_inputs_and_outputs() -> None:
    doc = action()
    assert doc["runs"]["using"] == "composite"
    assert doc["inputs"]["base"]["default"] == "${{ github.event.pull_request.base.sha }}"
    assert set(doc["outputs"]) == {"exitcode", "plan-json", "plan-json-file"}
    steps = doc["runs"]["steps"]
    install = next(s for s in steps if s.get("name", "").startswith("Install"))
    assert install["run"] == 'python -m pip install --quiet "$GITHUB_ACTION_PATH"'
    comment = next(s for s in steps if "github-script" in s.get("uses", ""))
    assert "updateComment" in comment["with"]["script"]
    assert "<!-- gitops-tune plan -->" in comment["with"]["script"]


def test_the_action_keeps_the_fingerprint_cache() -> None:
    """Issue 16: the action restores `.gitops-tune/fingerprints` before it validates and
    plans, and saves it under a key of this run's own, unless turned off."""
    doc = action()
    assert doc["inputs"]["fingerprint-cache"]["default"] == "true"
    steps = doc["runs"]["steps"]
    (cache,) = fingerprint_caches(steps)
    assert cache["if"] == "inputs.fingerprint-cache == 'true'"
    assert_saved_every_run(cache)
    names = [s.get("name", "") for s in steps]
    assert steps.index(cache) < names.index("Validate") < names.index("Plan")


def _expand(value: str, inputs: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        assert expr.startswith("inputs."), expr
        return inputs[expr.removeprefix("inputs.")]

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def run_steps(cwd: Path, inputs: dict[str, str]) -> tuple[dict[str, str], list[int]]:
    """Every ``run`` step but the install (gitops-tune comes from this checkout instead)."""
    doc = action()
    given = {k: str(v.get("default", "")) for k, v in doc["inputs"].items()} | inputs
    tmp = cwd.with_name(cwd.name + "-runner")
    (tmp / "bin").mkdir(parents=True)
    shim = tmp / "bin" / "gitops-tune"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gitops_tune "$@"\n')
    shim.chmod(0o755)
    outputs, summary = tmp / "output", tmp / "summary"
    env = {
        **os.environ,
        "PATH": f"{tmp / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
        + os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(tmp),
        "GITOPS_TUNE_HOME": str(tmp / "home"),
    }
    codes = []
    for step in doc["runs"]["steps"]:
        if "run" not in step or step.get("name", "").startswith("Install"):
            continue
        assert step["shell"] == "bash"
        step_env = {k: _expand(str(v), given) for k, v in step.get("env", {}).items()}
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=cwd, env={**env, **step_env}, check=False
        )
        codes.append(done.returncode)
        if done.returncode:
            break
    return _outputs(outputs.read_text() if outputs.exists() else ""), codes


def _outputs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delimiter = line.split("<<", 1)
            body = []
            for more in lines:
                if more == delimiter:
                    break
                body.append(more)
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def test_the_shell_steps_validate_plan_and_expose_the_outputs(tree: Tree) -> None:
    git(tree.root, "init", "-q", "-b", "main")
    tree.write("m.yaml", tuned_model("m", path="d.jsonl") + WORKSPACE)
    tree.jsonl("d.jsonl", rows(120))
    commit(tree)
    tree.jsonl("d.jsonl", [*rows(120), {"text_input": "added", "output": "row"}])
    outputs, codes = run_steps(tree.root, {"base": "main", "paths": "."})
    assert codes == [0, 0, 0]  # fetch (the base is there), validate --strict, plan
    assert outputs["exitcode"] == "2"  # changes
    plan = json.loads(outputs["json"])
    assert plan == json.loads(Path(outputs["json-file"]).read_text())
    (m,) = plan["review"]["models"]
    assert m["base"]["dataset"]["added"] == 1 and plan["review"]["base"] == "main"
    summary = tree.root.with_name(tree.root.name + "-runner").joinpath("summary").read_text()
    assert summary.startswith("<!-- gitops-tune plan -->")


def test_a_failing_validate_stops_the_action(tree: Tree) -> None:
    git(tree.root, "init", "-q", "-b", "main")
    tree.write("m.yaml", tuned_model("m", examples=20) + WORKSPACE)  # a warning: 20 examples
    commit(tree)
    outputs, codes = run_steps(tree.root, {"base": "main"})
    assert codes == [0, 1] and "exitcode" not in outputs
