"""`gitops-tune validate` through the real CLI (click's runner, and one real process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result

from gitops_tune.cli import main
from gitops_tune.desired import collect
from gitops_tune.settings import Invocation
from tests import ROOT
from tests.conftest import Tree, tuned_model


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["validate", *args])


def test_examples_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("examples/")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("next-number     22 examples  fingerprint ")
    assert lines[1].startswith("ticket-router  120 examples  fingerprint ")
    assert len(lines[0].split()[-1]) == 12
    assert lines[2] == (
        "examples/tuning.yaml:19:3: warning: spec.dataset: 22 examples; 100-500 are recommended"
    )
    assert lines[3] == "2 models valid, 1 warning; workspace demo (local)"
    assert result.stderr == ""


def test_json_output(tree: Tree) -> None:
    tree.write("m.yaml", tuned_model("m", examples=120))
    result = run(".", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    (model,) = doc["models"]
    assert set(model) == {"name", "fingerprint", "examples", "warnings", "findings", "silenced"}
    assert (model["name"], model["examples"], model["warnings"]) == ("m", 120, [])
    assert len(model["fingerprint"]) == 64
    assert doc["errors"] == []


def test_errors_exit_1_on_stderr_without_traceback(tree: Tree) -> None:
    tree.write("m.yaml", tuned_model(extra_spec="  hyperparameters:\n    epochCount: 0\n"))
    tree.write("n.yaml", "kind: [\n")
    result = run()
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "m.yaml:8:5: spec.hyperparameters.epochCount: must be greater than 0 (got 0)"
    assert lines[1].startswith("n.yaml:2:1: invalid YAML: ")
    assert "Traceback" not in result.output


def test_json_with_errors_still_prints_the_document(tree: Tree) -> None:
    tree.write("a.yaml", tuned_model("a", examples=100))
    tree.write("b.yaml", tuned_model("b", examples=3))
    result = run("--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [m["name"] for m in doc["models"]] == ["a"]
    assert doc["errors"] == [
        {
            "severity": "error",
            "file": "b.yaml",
            "line": 7,
            "column": 3,
            "field": "spec.dataset",
            "message": "3 examples; at least 20 are required",
        }
    ]


def test_warnings_exit_0_unless_strict(tree: Tree) -> None:
    tree.write("m.yaml", tuned_model(extra_spec="  task: summarization\n"))
    warning = (
        "m.yaml:8:3: warning: spec.dataset: 20 examples; 100-500 are recommended for summarization"
    )
    result = run()
    assert result.exit_code == 0
    assert warning in result.stdout.splitlines()
    strict = run("--strict")
    assert strict.exit_code == 1
    assert warning in strict.stdout.splitlines()
    assert strict.stderr == "error: 1 warning with --strict\n"
    as_json = run("--strict", "--format", "json")
    assert as_json.exit_code == 1
    (model,) = json.loads(as_json.stdout)["models"]
    assert model["warnings"][0]["severity"] == "warning"


def test_missing_path(tree: Tree) -> None:
    result = run("nowhere")
    assert (result.exit_code, result.stderr) == (1, "nowhere: no such file or directory\n")


def test_real_process_is_clean_and_does_not_import_genai(tree: Tree) -> None:
    code = (
        "import sys\n"
        "from gitops_tune.cli import main\n"
        "try:\n"
        "    main(['validate', sys.argv[1]])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('google', 'httpx', 'deepdiff')))\n"
        "print('imported:', bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "examples")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "imported: []"


def valid_on_vertex_refused_on_gemini(
    monkeypatch: pytest.MonkeyPatch, tree: str, last_line: str
) -> str:
    """``tree`` validates on its vertex Workspace; the Gemini API refuses it: its output."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITOPS_TUNE_BACKEND", raising=False)
    result = run(tree)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(last_line)
    monkeypatch.setenv("GITOPS_TUNE_BACKEND", "gemini")
    refused = run(tree)
    assert refused.exit_code == 1
    return refused.output


def test_the_vertex_example_is_valid_there_and_refused_on_the_gemini_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = valid_on_vertex_refused_on_gemini(
        monkeypatch, "examples-vertex-features/", "workspace support (vertex)"
    )
    for key in ("exportLastCheckpointOnly", "serving", "serviceAccount", "encryptionSpec"):
        assert f": spec.{key}: {key} does not apply to backend gemini" in refused
    assert ": spec.preTunedModel: preTunedModel does not apply" in refused
    assert "pipeline.yaml:48:3: spec.from: from does not apply to backend gemini" in refused


def test_the_example_pipeline_is_two_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITOPS_TUNE_BACKEND", raising=False)
    state, errors = collect(["examples-vertex-features/"], Invocation.from_environ())
    assert errors == []
    stages = {m.name: m.stage for m in state.models}
    assert stages["ticket-intent"] is None
    child = stages["ticket-intent-tone"]
    assert child is not None and (child.parent, child.checkpoint) == ("ticket-intent", "last")


def test_the_vertex_methods_example_is_valid_there_and_refused_on_the_gemini_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = valid_on_vertex_refused_on_gemini(
        monkeypatch,
        "examples-vertex-methods/",
        "4 models valid, 1 warning; workspace support-methods (vertex)",
    )
    for method in ("reinforcement", "distillation"):
        assert f": spec.method: {method} tuning does not apply to backend gemini" in refused
    assert "data/preferred.jsonl:1: the Gemini chat format" in refused  # the pipeline's first


def test_the_methods_example_pipeline_is_supervised_then_preference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Google's recommended recipe: supervised tuning on the preferred responses, then
    preference tuning from its last checkpoint, on the same prompts."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITOPS_TUNE_BACKEND", raising=False)
    state, errors = collect(["examples-vertex-methods/"], Invocation.from_environ())
    assert errors == []
    models = {m.name: m for m in state.models}
    sft, pref = models["reply-tone-sft"], models["reply-tone"]
    assert sft.stage is None and sft.options.method == ""
    assert pref.stage is not None and (pref.stage.parent, pref.stage.checkpoint) == (
        "reply-tone-sft",
        "last",
    )
    assert (pref.options.method, json.loads(pref.options.method_settings)) == (
        "preference",
        {"beta": 0.1},
    )
    data = ROOT / "examples-vertex-methods" / "data"
    pairs = [json.loads(line) for line in (data / "preferences.jsonl").open()]
    preferred = [json.loads(line) for line in (data / "preferred.jsonl").open()]
    assert preferred == [
        {
            "systemInstruction": p["systemInstruction"],
            "contents": [
                *p["contents"],
                next(c for c in p["completions"] if c["score"])["completion"],
            ],
        }
        for p in pairs
    ]


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (
            "  evaluation:\n    dataset: {examples: [{text_input: a, output: b}]}\n",
            "m.yaml:7:3: spec.evaluation: an evaluation gates nothing without minScore or "
            "noRegression: true; set one",
        ),
        (
            "  evaluation:\n    dataset: {examples: [{text_input: a, output: b}]}\n"
            "    minScore: 0.5\n    tolerance: 0.1\n",
            "m.yaml:10:5: spec.evaluation.tolerance: tolerance applies only with "
            "noRegression: true",
        ),
        (
            "  evaluation:\n    dataset: {examples: [{text_input: a, output: b}]}\n"
            "    minScore: 1.5\n",
            "m.yaml:9:5: spec.evaluation.minScore: must be at most 1 (got 1.5)",
        ),
        (
            "  evaluation:\n    dataset: {examples: [{text_input: a, output: b}]}\n"
            "    metric: f1\n    minScore: 0.5\n",
            "m.yaml:9:5: spec.evaluation.metric: ",
        ),
        (
            "  evaluation:\n    dataset: {examples: [{text_input: a, output: '(b'}]}\n"
            "    metric: regex\n    minScore: 0.5\n",
            "m.yaml:8:5: spec.evaluation.dataset: m.yaml (inline) example 1: output '(b' is not a "
            "regular expression: missing ), unterminated subpattern at position 0",
        ),
        (
            "  evaluation:\n    dataset: {path: missing.jsonl}\n    minScore: 0.5\n",
            "m.yaml:8:15: spec.evaluation.dataset.path: ",
        ),
    ],
)
def test_evaluation_errors_point_at_their_key(tree: Tree, lines: str, error: str) -> None:
    tree.write("m.yaml", tuned_model(extra_spec=lines))
    result = run()
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0].startswith(error), result.stderr
    assert "Traceback" not in result.output


def test_a_valid_evaluation(tree: Tree) -> None:
    lines = (
        "  evaluation:\n    dataset: {examples: [{text_input: a, output: b}]}\n"
        "    metric: labelAccuracy\n    normalize: {ignoreCase: false}\n"
        "    minScore: 0.5\n    noRegression: true\n    tolerance: 0.02\n"
    )
    tree.write("m.yaml", tuned_model(extra_spec=lines))
    result = run()
    assert result.exit_code == 0, result.output
