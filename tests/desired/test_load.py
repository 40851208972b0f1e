"""desired.load: the whole tree -> DesiredState, every error collected, datasets re-streamable."""

from __future__ import annotations

import json
import os

import pytest

from gitops_tune.dataset import Example
from gitops_tune.desired import DesiredState, load
from gitops_tune.errors import UserError
from gitops_tune.settings import Invocation, VertexTarget
from tests import ROOT
from tests.conftest import Tree, rows, tuned_model

EXAMPLES = str(ROOT / "examples")
WORKSPACE = "apiVersion: gitops-tune/v1\nkind: Workspace\nmetadata:\n  name: demo\n"


def errors_of(paths: list[str]) -> list[str]:
    with pytest.raises(UserError) as e:
        load(paths, Invocation.from_environ())
    return [str(d) for d in e.value.diagnostics]


def test_examples_load() -> None:
    state = load([EXAMPLES], Invocation.from_environ())
    assert [m.name for m in state.models] == ["next-number", "ticket-router"]
    nxt, router = state.models
    assert nxt.example_count == 22
    assert nxt.hyperparameters.fields() == {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}
    assert nxt.display_name == "Next number"
    assert nxt.labels == {"team": "growth"}
    assert nxt.location.file.endswith("tuning.yaml")
    assert (nxt.location.line, nxt.location.col) == (11, 3)
    first = next(nxt.examples())
    assert first == Example("Give the next number: 1", "2")
    assert router.example_count == 120
    assert router.task == "classification"
    assert router.hyperparameters.fields() == {
        "epochCount": 4,
        "batchSize": 8,
        "learningRateMultiplier": 1.0,
    }
    assert router.dataset_source.endswith(os.path.join("data", "support-tickets.jsonl"))
    assert sum(1 for _ in router.examples()) == 120
    assert state.workspace is not None
    assert (state.workspace.name, state.workspace.backend) == ("demo", "local")
    assert [w.message for w in nxt.warnings] == ["22 examples; 100-500 are recommended"]
    assert router.warnings == ()
    assert state.warnings == nxt.warnings


def test_defaults_and_sorting(tree: Tree) -> None:
    tree.write("z.yaml", tuned_model("zeta"))
    tree.write("a.yaml", tuned_model("alpha", extra_spec="  displayName: Alpha\n"))
    state = load(["."], Invocation.from_environ())
    assert [m.name for m in state.models] == ["alpha", "zeta"]
    zeta = state.models[1]
    assert zeta.display_name == "zeta"
    assert (zeta.task, zeta.preamble, zeta.description) == ("other", "", "")
    assert zeta.prevent_destroy is False
    assert zeta.hyperparameters.fields() == {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}
    assert str(zeta.location) == "z.yaml:4:3"
    assert state.workspace is None


def test_inline_examples_restream_from_the_file(tree: Tree) -> None:
    tree.write("m.yaml", tuned_model(extra_spec='  preamble: "Q: "\n'))
    (model,) = load(["."], Invocation.from_environ()).models
    assert list(model.examples()) == [Example("Q: " + r["text_input"], r["output"]) for r in rows()]
    assert list(model.examples()) == list(model.examples())  # callable again
    tree.write("m.yaml", tuned_model(extra_spec='  preamble: "Q: "\n').replace('"19"', '"20"'))
    with pytest.raises(UserError, match="changed since it was validated"):
        list(model.examples())


def test_fingerprint_ignores_layout_location_and_source(tree: Tree) -> None:
    inline = tuned_model("m", extra_spec="  hyperparameters: {learningRate: 1e-3}\n")
    tree.write("one/m.yaml", inline)
    # the same model: block style, other key order, defaults explicit, data from a file
    tree.jsonl("two/deep/data/examples.jsonl", rows())
    tree.write(
        "two/deep/other-name.yml",
        "kind: TunedModel\n"
        "apiVersion: gitops-tune/v1\n"
        "spec:\n"
        "  hyperparameters:\n"
        "    batchSize: 4\n"
        "    learningRate: 0.001\n"
        "    epochCount: 5\n"
        "  dataset:\n"
        "    path: data/examples.jsonl\n"
        "  description: mutable fields do not matter\n"
        "  displayName: Another\n"
        "  baseModel: 'models/gemini-1.5-flash-001-tuning'\n"
        "metadata:\n"
        "  labels: {a: b}\n"
        "  name: m\n",
    )
    (a,) = load(["one"], Invocation.from_environ()).models
    (b,) = load(["two"], Invocation.from_environ()).models
    assert a.fingerprint == b.fingerprint
    assert a.hyperparameters.fields() == b.hyperparameters.fields()


def test_duplicate_name_names_both_locations(tree: Tree) -> None:
    tree.write("a.yaml", tuned_model("same"))
    tree.write("b/c.yaml", tuned_model("other") + "---\n" + tuned_model("same"))
    assert errors_of(["."]) == [
        f"{os.path.join('b', 'c.yaml')}:33:3: metadata.name: duplicate model name 'same'; "
        "also declared at a.yaml:4:3"
    ]


def test_at_most_one_workspace(tree: Tree) -> None:
    tree.write("a.yaml", WORKSPACE)
    tree.write("b.yaml", WORKSPACE.replace("demo", "other"))
    assert errors_of(["."]) == [
        "b.yaml:2:1: kind: a second Workspace document; the first is at a.yaml:4:3 "
        "(at most one per tree)"
    ]


def test_workspace_vertex_settings(tree: Tree) -> None:
    tree.write(
        "w.yaml",
        WORKSPACE + "spec:\n  backend: vertex\n  vertex: {project: p, stagingBucket: gs://b}\n",
    )
    state = load(["."], Invocation.from_environ())
    assert state.workspace is not None
    assert state.workspace.backend == "vertex"
    assert state.workspace.vertex == VertexTarget(project="p", staging_bucket="gs://b")
    assert state.models == ()


def test_every_error_is_collected_across_files(tree: Tree) -> None:
    tree.write("a.yaml", tuned_model("a", extra_spec="  hyperparameters: {epochCount: 0}\n"))
    tree.write("b.yaml", tuned_model("b", examples=3))
    tree.write("c.yaml", "kind: [\n")
    tree.jsonl("d/data.jsonl", [*rows(19), {"text_input": "x", "output": "y" * 5001}])
    tree.write("d/m.yaml", tuned_model("d", path="data.jsonl"))
    messages = errors_of(["."])
    assert (
        messages[0]
        == "a.yaml:7:21: spec.hyperparameters.epochCount: must be greater than 0 (got 0)"
    )
    assert messages[1] == "b.yaml:7:3: spec.dataset: 3 examples; at least 20 are required"
    assert messages[2].startswith("c.yaml:2:1: invalid YAML: ")
    d_data = os.path.join("d", "data.jsonl")
    assert messages[3:] == [f"{d_data}:20: output is 5,001 characters; the limit is 5,000"]


def test_dataset_path_errors_point_at_the_manifest(tree: Tree) -> None:
    tree.write("m.yaml", tuned_model(path="../secret.jsonl"))
    assert errors_of(["."]) == [
        "m.yaml:8:5: spec.dataset.path: '../secret.jsonl' points outside the directory tree "
        "being loaded (.); '..' may not leave it"
    ]


def test_file_argument_roots_at_its_directory(tree: Tree) -> None:
    tree.jsonl("shared/d.jsonl", rows())
    tree.write("models/m.yaml", tuned_model(path="../shared/d.jsonl"))
    assert load(["."], Invocation.from_environ()).models[0].example_count == 20
    assert errors_of(["models/m.yaml"]) == [
        "models/m.yaml:8:5: spec.dataset.path: '../shared/d.jsonl' points outside the directory "
        "tree being loaded (models); '..' may not leave it"
    ]


def test_inline_example_errors_are_located(tree: Tree) -> None:
    text = tuned_model().replace('{text_input: "3", output: "4"}', "{text_input: 3, outptu: x}")
    tree.write("m.yaml", text)
    assert errors_of(["."]) == [
        "m.yaml:12:9: spec.dataset.examples[3]: unknown field 'outptu'; did you mean 'output'?",
        "m.yaml:12:9: spec.dataset.examples[3]: text_input must be a string (got integer 3); "
        "quote it",
        "m.yaml:12:9: spec.dataset.examples[3]: missing 'output'",
    ]


def test_learning_rate_multiplier_replaces_learning_rate(tree: Tree) -> None:
    hp = "  hyperparameters:\n    learningRateMultiplier: 2\n"
    tree.write("m.yaml", tuned_model(extra_spec=hp))
    (model,) = load(["."], Invocation.from_environ()).models
    assert model.hyperparameters.fields() == {
        "epochCount": 5,
        "batchSize": 4,
        "learningRateMultiplier": 2.0,
    }


def test_empty_state_is_valid_with_a_workspace_only(tree: Tree) -> None:
    tree.write("w.yaml", WORKSPACE)
    state = load(["."], Invocation.from_environ())
    assert state == DesiredState((), state.workspace, state.settings, ())


def test_csv_and_json_sources(tree: Tree) -> None:
    tree.write("q.csv", "question,answer\n" + "".join(f"q{i},a{i}\n" for i in range(20)))
    tree.write("j.json", json.dumps(rows()))
    tree.write(
        "m.yaml",
        tuned_model("c", path="q.csv").replace(
            "path: q.csv", "path: q.csv\n    inputField: question\n    outputField: answer"
        )
        + "---\n"
        + tuned_model("j", path="j.json"),
    )
    c, j = load(["."], Invocation.from_environ()).models
    assert next(c.examples()) == Example("q0", "a0")
    assert j.example_count == 20


def test_an_empty_tree_desires_nothing_with_a_warning(tree: Tree) -> None:
    tree.write("notes.txt", "")
    state = load(["."], Invocation.from_environ())
    assert state.models == ()
    assert [str(w) for w in state.warnings] == ["warning: no manifests (*.yaml, *.yml) found in ."]


def test_lifecycle(tree: Tree) -> None:
    lifecycle = "  lifecycle:\n    preventDestroy: true\n    retainPrevious: 2\n"
    tree.write("m.yaml", tuned_model(extra_spec=lifecycle))
    (model,) = load(["."], Invocation.from_environ()).models
    assert (model.prevent_destroy, model.retain_previous) == (True, 2)
    tree.write("m.yaml", tuned_model(extra_spec="  lifecycle: {retainPrevious: -1}\n"))
    assert errors_of(["."]) == [
        "m.yaml:7:15: spec.lifecycle.retainPrevious: must be at least 0 (got -1)"
    ]
