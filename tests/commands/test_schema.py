"""The committed JSON Schema is current, printed by `gitops-tune schema`, and fits the examples."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from gitops_tune.cli import main
from gitops_tune.manifest.schema import schema_text
from tests import ROOT

COMMITTED = ROOT / "schemas" / "tuning.schema.json"


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "schemas/tuning.schema.json is out of date; regenerate it with "
        "`gitops-tune schema > schemas/tuning.schema.json`"
    )


def test_schema_command_prints_the_committed_file() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == COMMITTED.read_text(encoding="utf-8")


def test_schema_is_draft_2020_12_with_both_kinds() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert sorted(schema["discriminator"]["mapping"]) == ["TunedModel", "Workspace"]


def test_examples_validate_against_the_schema() -> None:
    check = validator()
    documents = list(yaml.safe_load_all((ROOT / "examples" / "tuning.yaml").read_text()))
    assert [d["kind"] for d in documents] == ["TunedModel", "TunedModel", "Workspace"]
    for doc in documents:
        assert list(check.iter_errors(doc)) == []


def _model(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gitops-tune/v1",
        "kind": "TunedModel",
        "metadata": {"name": "m"},
        "spec": {"baseModel": "b", "dataset": {"path": "d.jsonl"}, **spec},
    }


@pytest.mark.parametrize(
    "doc",
    [
        _model(dataset={"path": "d.jsonl", "examples": []}),
        _model(dataset={}),
        _model(hyperparameters={"learningRate": 0.1, "learningRateMultiplier": 2}),
        _model(hyperparameters={"epochs": 3}),
        _model(hyperparameters={"epochCount": 0}),
        _model(displayName="x" * 129),
        _model(dataset={"examples": [{"text_input": "a", "output": "b", "extra": "c"}]}),
        {**_model(), "kind": "Model"},
        {**_model(), "metadata": {"name": "Bad_Name"}},
    ],
)
def test_schema_rejects_what_validate_rejects(doc: dict[str, Any]) -> None:
    assert list(validator().iter_errors(doc)) != []


def test_schema_command_does_not_import_genai() -> None:
    code = (
        "import sys\n"
        "from gitops_tune.cli import main\n"
        "try:\n"
        "    main(['schema'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(sorted(m for m in sys.modules if m.startswith('google')), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "[]"
