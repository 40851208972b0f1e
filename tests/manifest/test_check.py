"""Manifest reading and validation: every rule feeds bad input and checks message + location."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable

import pytest
import yaml

from gitops_tune import manifest
from gitops_tune.manifest import ManifestFile, dataset_file
from gitops_tune.manifest._yaml import (
    MAX_ALIAS_EXPANSION,
    SAFE_NESTING_BOUND,
    nesting_bound,
    parse,
)
from tests.conftest import Tree, tuned_model


def problems(tree: Tree, text: str | bytes, name: str = "m.yaml") -> list[str]:
    tree.write(name, text)
    files, found = manifest.discover(["."])
    out = [str(d) for d in found]
    for f in files:
        out += [str(d) for d in manifest.load_file(f)[1]]
    return out


def spec(lines: str) -> str:
    """A valid TunedModel with ``lines`` added under spec: they start on line 7."""
    return tuned_model(extra_spec=lines)


# --- valid documents -------------------------------------------------------------------------


def test_valid_document_parses_with_defaults(tree: Tree) -> None:
    tree.write("m.yaml", spec(""))
    (parsed,), errors = manifest.load_file(manifest.discover(["."])[0][0])
    assert errors == []
    model = parsed.model
    assert isinstance(model, manifest.TunedModelDocument)
    assert model.metadata.name == "m"
    assert model.spec.hyperparameters.epochCount == 5
    assert model.spec.hyperparameters.batchSize == 4
    assert model.spec.hyperparameters.learningRate is None  # filled in by desired.load
    assert parsed.document.locate(("metadata", "name")).line == 4


def test_several_documents_and_empty_ones(tree: Tree) -> None:
    text = "---\n" + tuned_model("a") + "---\n---\n" + tuned_model("b") + "...\n"
    tree.write("m.yaml", text)
    parsed, errors = manifest.load_file(manifest.discover(["."])[0][0])
    assert errors == []
    assert [p.model.metadata.name for p in parsed] == ["a", "b"]
    assert [p.document.index for p in parsed] == [0, 1]


def test_exponent_without_dot_is_a_number() -> None:
    (doc,), errors = parse("a: 1e-3\nb: '1e-3'\nc: 0.001\n", "x.yaml")
    assert errors == []
    assert doc.data == {"a": 0.001, "b": "1e-3", "c": 0.001}


def test_merge_keys_and_anchors_are_supported() -> None:
    text = "base: &b {epochCount: 3, batchSize: 2}\nhp:\n  <<: *b\n  batchSize: 8\n"
    (doc,), errors = parse(text, "x.yaml")
    assert errors == []
    assert doc.data["hp"] == {"batchSize": 8, "epochCount": 3}


# --- the header ------------------------------------------------------------------------------


def test_missing_api_version_and_kind(tree: Tree) -> None:
    assert problems(tree, "metadata: {name: m}\n") == [
        "m.yaml:1:1: apiVersion: required field is missing; expected 'gitops-tune/v1'",
        "m.yaml:1:1: kind: required field is missing; expected one of: TunedModel, Workspace",
    ]


def test_wrong_api_version(tree: Tree) -> None:
    text = tuned_model().replace("gitops-tune/v1", "gitops-tune/v2")
    assert problems(tree, text) == [
        "m.yaml:1:1: apiVersion: unsupported apiVersion string 'gitops-tune/v2'; "
        "expected 'gitops-tune/v1'"
    ]


def test_wrong_kind_suggests(tree: Tree) -> None:
    text = tuned_model().replace("kind: TunedModel", "kind: TunedModle")
    assert problems(tree, text) == [
        "m.yaml:2:1: kind: unknown kind string 'TunedModle'; expected one of: TunedModel, "
        "Workspace; did you mean 'TunedModel'?"
    ]


def test_document_must_be_a_mapping(tree: Tree) -> None:
    assert problems(tree, "- a\n- b\n") == [
        "m.yaml:1:1: a manifest document must be a mapping with apiVersion, kind, metadata "
        "and spec (got a list)"
    ]


# --- field rules -----------------------------------------------------------------------------


def test_epoch_count_must_be_positive(tree: Tree) -> None:
    assert problems(tree, spec("  hyperparameters:\n    epochCount: 0\n")) == [
        "m.yaml:8:5: spec.hyperparameters.epochCount: must be greater than 0 (got 0)"
    ]


def test_batch_size_must_be_a_positive_integer(tree: Tree) -> None:
    text = spec('  hyperparameters:\n    batchSize: "4"\n    epochCount: 2.5\n')
    assert problems(tree, text) == [
        "m.yaml:8:5: spec.hyperparameters.batchSize: must be an integer (got string '4')",
        "m.yaml:9:5: spec.hyperparameters.epochCount: must be an integer (got number 2.5)",
    ]
    assert problems(tree, spec("  hyperparameters:\n    batchSize: -1\n")) == [
        "m.yaml:8:5: spec.hyperparameters.batchSize: must be greater than 0 (got -1)"
    ]


def test_learning_rates_positive_and_never_both(tree: Tree) -> None:
    assert problems(tree, spec("  hyperparameters:\n    learningRate: -0.1\n")) == [
        "m.yaml:8:5: spec.hyperparameters.learningRate: must be greater than 0 (got -0.1)"
    ]
    assert problems(tree, spec("  hyperparameters:\n    learningRateMultiplier: 0\n")) == [
        "m.yaml:8:5: spec.hyperparameters.learningRateMultiplier: must be greater than 0 (got 0)"
    ]
    both = "  hyperparameters:\n    learningRate: 0.001\n    learningRateMultiplier: 2\n"
    assert problems(tree, spec(both)) == [
        "m.yaml:9:5: spec.hyperparameters: learningRate and learningRateMultiplier are both "
        "set; set at most one"
    ]


def test_non_finite_learning_rate(tree: Tree) -> None:
    assert problems(tree, spec("  hyperparameters:\n    learningRate: .inf\n")) == [
        "m.yaml:8:5: spec.hyperparameters.learningRate: must be a finite number (got inf)"
    ]


def test_unknown_field_did_you_mean(tree: Tree) -> None:
    assert problems(tree, spec("  hyperparameters:\n    epochs: 3\n")) == [
        "m.yaml:8:5: spec.hyperparameters: unknown field 'epochs'; did you mean 'epochCount'?"
    ]
    assert problems(tree, spec("  base_model: x\n")) == [
        "m.yaml:7:3: spec: unknown field 'base_model'; did you mean 'baseModel'?"
    ]


def test_unknown_field_without_a_close_match_lists_the_fields(tree: Tree) -> None:
    assert problems(tree, "status: {}\n" + tuned_model()) == [
        "m.yaml:1:1: unknown field 'status' (expected one of: apiVersion, kind, metadata, spec)"
    ]


def test_missing_required_field_points_at_the_parent(tree: Tree) -> None:
    text = tuned_model().replace("  baseModel: models/gemini-1.5-flash-001-tuning\n", "")
    assert problems(tree, text) == ["m.yaml:5:1: spec.baseModel: required field is missing"]


def test_display_name_at_most_128_characters(tree: Tree) -> None:
    """The longest any backend takes; each backend's own limit is checked with its record."""
    assert problems(tree, spec(f"  displayName: {'x' * 129}\n")) == [
        "m.yaml:7:3: spec.displayName: must be at most 128 characters (got 129)"
    ]
    assert problems(tree, spec(f"  displayName: {'x' * 128}\n")) == []


def test_name_pattern(tree: Tree) -> None:
    text = tuned_model(name="Next_Number")
    assert problems(tree, text) == [
        "m.yaml:4:3: metadata.name: must be 1-30 lowercase letters, digits and '-', starting "
        "with a letter and not ending with '-' (got 'Next_Number')"
    ]
    assert problems(tree, tuned_model(name="a" * 31))[0].startswith("m.yaml:4:3: metadata.name")
    assert problems(tree, tuned_model(name="a" * 30)) == []


def test_labels_are_strings(tree: Tree) -> None:
    text = tuned_model().replace("  name: m\n", "  name: m\n  labels: {tier: 1}\n")
    assert problems(tree, text) == [
        "m.yaml:5:12: metadata.labels.tier: must be a string (got integer 1)"
    ]


def test_task_must_be_known(tree: Tree) -> None:
    assert problems(tree, spec("  task: classify\n")) == [
        "m.yaml:7:3: spec.task: must be one of: classification, summarization, "
        "document-search, other (got string 'classify'); did you mean 'classification'?"
    ]


def test_dataset_exactly_one_source(tree: Tree) -> None:
    neither = tuned_model().split("  dataset:")[0] + "  dataset: {}\n"
    assert problems(tree, neither) == [
        "m.yaml:7:3: spec.dataset: set exactly one of 'examples' (inline) or 'path' (a data file)"
    ]
    both = tuned_model(examples=20) + "    path: data.jsonl\n"
    assert problems(tree, both) == [
        "m.yaml:29:5: spec.dataset: 'examples' and 'path' are both set; set exactly one"
    ]


def test_input_field_only_for_files(tree: Tree) -> None:
    text = tuned_model(examples=20) + "    inputField: q\n"
    assert problems(tree, text) == [
        "m.yaml:29:5: spec.dataset.inputField: applies to a dataset read from 'path'; inline "
        "examples always use text_input and output"
    ]


def test_workspace_document(tree: Tree) -> None:
    ok = "apiVersion: gitops-tune/v1\nkind: Workspace\nmetadata: {name: demo}\nspec:\n"
    assert problems(tree, ok + "  backend: local\n") == []
    assert problems(tree, ok + "  backend: aws\n") == [
        "m.yaml:5:3: spec.backend: must be one of: local, gemini, vertex (got string 'aws')"
    ]
    vertex = "  backend: vertex\n  vertex: {project: p, location: us-central1, bucket: b}\n"
    assert problems(tree, ok + vertex) == [
        "m.yaml:6:47: spec.vertex: unknown field 'bucket'; did you mean 'stagingBucket'?"
    ]


def test_all_errors_of_a_file_are_reported_together(tree: Tree) -> None:
    text = spec("  hyperparameters:\n    epochCount: 0\n    batchSize: 0\n    epochs: 1\n")
    text += "---\n" + tuned_model().replace("kind: TunedModel", "kind: Model")
    assert problems(tree, text) == [
        "m.yaml:8:5: spec.hyperparameters.epochCount: must be greater than 0 (got 0)",
        "m.yaml:9:5: spec.hyperparameters.batchSize: must be greater than 0 (got 0)",
        "m.yaml:10:5: spec.hyperparameters: unknown field 'epochs'; did you mean 'epochCount'?",
        "m.yaml:35:1: kind: unknown kind string 'Model'; expected one of: TunedModel, "
        "Workspace; did you mean 'TunedModel'?",
    ]


# --- YAML itself -----------------------------------------------------------------------------


def test_yaml_syntax_error(tree: Tree) -> None:
    (message,) = problems(tree, "apiVersion: gitops-tune/v1\nkind: [TunedModel\nmetadata: x\n")
    assert message.startswith("m.yaml:3:")
    assert "invalid YAML: " in message


def test_duplicate_keys_are_errors(tree: Tree) -> None:
    text = spec("  baseModel: other\n")
    assert problems(tree, text) == [
        "m.yaml:7:3: spec.baseModel: duplicate key 'baseModel' (first at line 6)"
    ]


def test_custom_tags_are_refused(tree: Tree) -> None:
    assert problems(tree, spec("  description: !!python/name:os.system x\n")) == [
        "m.yaml:7:16: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'; "
        "manifests use plain values"
    ]


def test_billion_laughs_is_refused_quickly(tree: Tree) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.perf_counter()
    (message,) = problems(tree, "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 0.5
    assert message.startswith("m.yaml:1:1: YAML aliases would expand this document to ")
    assert f"(at most {MAX_ALIAS_EXPANSION:,} added by aliases)" in message


def test_recursive_alias_is_refused(tree: Tree) -> None:
    (message,) = problems(tree, "a: &x [1, *x]\n")
    assert message == (
        "m.yaml:1:4: a YAML alias refers to its own anchor (recursive data is not supported)"
    )


def test_deep_nesting_is_refused(tree: Tree) -> None:
    (message,) = problems(tree, "a: " + "[" * 150 + "]" * 150 + "\n")
    assert message.startswith("m.yaml:1:") and "nested" in message


def test_manifest_not_utf8(tree: Tree) -> None:
    assert problems(tree, b"apiVersion: gitops-tune/v1\nkind: \xff\n") == [
        "m.yaml:2: not valid UTF-8 (byte offset 33)"
    ]


# --- discovery -------------------------------------------------------------------------------


def test_discover_recurses_sorted_and_skips_hidden(tree: Tree) -> None:
    for name in ("b.yaml", "a.yml", "sub/c.yaml", ".git/x.yaml", ".hidden/y.yaml", "d.txt"):
        tree.write(name, "x: 1\n")
    files, errors = manifest.discover(["."])
    assert errors == []
    assert [f.display for f in files] == ["a.yml", "b.yaml", os.path.join("sub", "c.yaml")]
    files, _ = manifest.discover(["sub/", "sub/c.yaml"])
    assert [f.display for f in files] == ["sub/c.yaml"]  # once
    assert files[0].root == "sub/"


def test_discover_missing_path_and_empty_tree(tree: Tree) -> None:
    assert [str(d) for d in manifest.discover(["nope"])[1]] == ["nope: no such file or directory"]
    tree.write("empty/readme.txt", "")
    assert [str(d) for d in manifest.discover(["empty"])[1]] == [
        "warning: no manifests (*.yaml, *.yml) found in empty"
    ]


# --- dataset paths ---------------------------------------------------------------------------


def _file(tree: Tree, display: str = "models/m.yaml", root: str = ".") -> ManifestFile:
    tree.write(display, "")
    return ManifestFile(display, display, root, root)


def test_dataset_path_resolves_relative_to_the_manifest(tree: Tree) -> None:
    tree.write("models/data/d.jsonl", "")
    path, shown = dataset_file(_file(tree), "data/d.jsonl")
    assert shown == os.path.join("models", "data", "d.jsonl")
    assert path == os.path.realpath("models/data/d.jsonl")
    # '..' that stays inside the tree is fine
    tree.write("shared/d.csv", "")
    assert dataset_file(_file(tree), "../shared/d.csv")[1] == os.path.join("shared", "d.csv")


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        (
            "/etc/passwd",
            "'/etc/passwd' is an absolute path; give a path relative to the "
            "manifest's directory, inside the directory tree being loaded",
        ),
        (
            "../../outside.jsonl",
            "'../../outside.jsonl' points outside the directory tree being "
            "loaded (.); '..' may not leave it",
        ),
        ("data/missing.jsonl", "no such file: models/data/missing.jsonl"),
        (
            "data/d.txt",
            "'data/d.txt': unsupported file type '.txt'; use one of .jsonl, .json, .csv",
        ),
    ],
)
def test_dataset_path_refusals(tree: Tree, relative: str, message: str) -> None:
    tree.write("models/data/d.txt", "")
    with pytest.raises(ValueError) as e:
        dataset_file(_file(tree), relative)
    assert str(e.value) == message


def test_dataset_symlink_outside_is_refused(
    tree: Tree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.jsonl"
    outside.write_text("{}\n")
    tree.write("models/m.yaml", "")
    os.symlink(outside, tree.root / "models" / "link.jsonl")
    with pytest.raises(ValueError) as e:
        dataset_file(_file(tree), "link.jsonl")
    assert str(e.value) == (
        "'link.jsonl' is a symlink that resolves outside the directory tree being loaded "
        f"(.): {os.path.realpath(outside)}"
    )


def test_dataset_must_stay_in_the_directory_argument(tree: Tree) -> None:
    tree.write("shared/d.jsonl", "")
    with pytest.raises(ValueError, match="points outside the directory tree being loaded"):
        dataset_file(_file(tree, "models/m.yaml", root="models"), "../shared/d.jsonl")


def _depth(text: str) -> int:
    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return deepest


NESTED: dict[str, Callable[[int], str]] = {
    "block mappings": lambda n: "".join(" " * i + "a:\n" for i in range(n)) + " " * n + "x\n",
    "block sequences": lambda n: "".join(" " * i + "-\n" for i in range(n)) + " " * n + "x\n",
    "a sequence as each mapping's value": lambda n: (
        "a:\n" + "".join(" " * (2 * i) + "- a:\n" for i in range(n))
    ),
    "a sequence at its key's column, each item on the next line": lambda n: "".join(
        " " * i + "a:\n" + " " * i + "-\n" for i in range(n)
    ),
    "compact sequences": lambda n: "- " * n + "x\n",
    "flow": lambda n: "[" * n + "x" + "]" * n + "\n",
    "flow pairs, one a line": lambda n: "[a:\n" * n + "x\n" + "]\n" * n,
    "flow explicit keys, one a line": lambda n: "[?\n" * n + "x\n" + "]\n" * n,
    "flow in block": lambda n: (
        "".join(" " * i + "a:\n" for i in range(n)) + " " * n + "[" * n + "x" + "]" * n + "\n"
    ),
}


@pytest.mark.parametrize("shape", NESTED)
def test_the_nesting_bound_is_never_below_the_depth(shape: str) -> None:
    """Only a text whose bound passes `SAFE_NESTING_BOUND` is checked before libyaml composes
    it (recursively, in C), so the bound must never be below the real depth, also where a
    flat list of 20,000 items puts the indicators over the threshold."""
    flat = "".join(f"- k: {i}\n" for i in range(20_000))
    for n in (1, 10, 200, 450):  # libyaml refuses more than 1,000 levels itself
        nested = NESTED[shape](n)
        for text in (
            nested,
            f"a:\n{textwrap.indent(flat, '  ')}b:\n{textwrap.indent(nested, '  ')}",
        ):
            assert nesting_bound(text) >= _depth(text), (shape, n)


def test_a_large_block_manifest_is_not_parsed_twice() -> None:
    """20,000 inline examples as ``yaml.safe_dump`` writes them: over the threshold by their
    indicators, far under it by their lines."""
    examples = [{"text_input": f"q{i}", "output": f"a{i}"} for i in range(20_000)]
    text = yaml.safe_dump({"spec": {"dataset": {"examples": examples}}})
    assert sum(text.count(c) for c in "[{-:?") > SAFE_NESTING_BOUND
    assert nesting_bound(text) < 100
