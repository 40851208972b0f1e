"""``spec.method`` (gitops_tune/manifest/methods.py) checked against Google's own definitions,
read from google-genai 3.6: every setting a manifest can give is a field of the google-genai
type it is sent as, every enum value one Google's enum has; and the method keeps every
existing manifest exactly as it was."""

from __future__ import annotations

import enum
import os
import typing
from typing import Any

import pytest
from google.genai import types
from pydantic import BaseModel

from gitops_tune.desired import load
from gitops_tune.errors import UserError
from gitops_tune.manifest import methods as m
from gitops_tune.providers.vertex_methods import CONFIG_FIELDS
from gitops_tune.settings import Invocation
from tests import ROOT
from tests.conftest import Tree

#: Each manifest model -> the google-genai types whose fields it takes (its hyperparameters
#: and its spec fields are one object in the manifest, two in Google's TuningJob).
GOOGLE: dict[type[BaseModel], tuple[type[Any], ...]] = {
    m.Preference: (types.PreferenceOptimizationHyperParameters,),
    m.Reinforcement: (types.ReinforcementTuningSpec, types.ReinforcementTuningHyperParameters),
    m.Distillation: (types.DistillationSpec,),
    m.RewardConfig: (types.SingleReinforcementTuningRewardConfig,),
    m.CompositeRewardConfig: (types.CompositeReinforcementTuningRewardConfig,),
    m.WeightedRewardConfig: (types.CompositeReinforcementTuningRewardConfigWeightedRewardConfig,),
    m.StringMatchRewardScorer: (types.ReinforcementTuningStringMatchRewardScorer,),
    m.StringMatchExpression: (
        types.ReinforcementTuningStringMatchRewardScorerStringMatchExpression,
    ),
    m.JsonMatchExpression: (types.ReinforcementTuningStringMatchRewardScorerJsonMatchExpression,),
    m.CodeExecutionRewardScorer: (types.ReinforcementTuningCodeExecutionRewardScorer,),
    m.CloudRunRewardScorer: (types.ReinforcementTuningCloudRunRewardScorer,),
    m.ParseResponseConfig: (types.ReinforcementTuningParseResponseConfig,),
    m.AutoraterScorer: (types.ReinforcementTuningAutoraterScorer,),
    m.AutoraterConfig: (types.AutoraterConfig,),
    m.AutoraterExactMatchScorer: (types.ReinforcementTuningAutoraterScorerExactMatchScorer,),
}
ENUMS: dict[str, type[enum.Enum]] = {
    "matchOperation": types.MatchOperation,
    "parseType": types.ResponseParseType,
    "thinkingLevel": types.ReinforcementTuningThinkingLevel,
}


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@pytest.mark.parametrize("model", list(GOOGLE), ids=lambda c: c.__name__)
def test_every_setting_is_a_field_of_googles_type(model: type[BaseModel]) -> None:
    google = GOOGLE[model]
    for name, info in model.model_fields.items():
        owners = [g for g in google if snake(name) in g.model_fields]
        assert owners, f"{model.__name__}.{name}: no such field in {google}"
        literal = [
            a for a in typing.get_args(info.annotation) if typing.get_origin(a) is typing.Literal
        ]
        for values in ([*typing.get_args(lit)] for lit in literal):
            assert set(values) <= {e.value for e in ENUMS[name]}, name


def test_every_method_is_a_tuning_method_and_its_settings_a_config_field() -> None:
    assert {m.TUNING_METHOD[x] for x in m.METHODS} == {e.value for e in types.TuningMethod}
    config = types.CreateTuningJobConfig.model_fields
    for method, names in CONFIG_FIELDS.items():
        assert all(keyword in config for keyword in names.values()), method
        settings = typing.get_args(m.Method.model_fields[method].annotation)[0].model_fields
        assert set(names) == set(settings), method


def test_declared_supervised_is_no_method_at_all(tree: Tree) -> None:
    source = (ROOT / "examples-vertex-features" / "tuning.yaml").read_text()
    tree.write("a/tuning.yaml", source)
    declared = source.replace(
        "  task: classification\n", "  task: classification\n  method: {supervised: {}}\n", 1
    )
    assert declared != source
    tree.write("b/tuning.yaml", declared)
    os.environ.pop("GITOPS_TUNE_BACKEND", None)
    a = load(["a"], Invocation.from_environ()).models
    b = load(["b"], Invocation.from_environ()).models
    assert [x.fingerprint for x in a] == [x.fingerprint for x in b]


VERTEX = (
    "apiVersion: gitops-tune/v1\nkind: Workspace\nmetadata: {name: w}\n"
    "spec: {backend: vertex, vertex: {project: p, stagingBucket: gs://b}}\n---\n"
)


def model(method: str, base: str = "gemini-2.5-flash", data: str = "d.jsonl") -> str:
    return (
        "apiVersion: gitops-tune/v1\nkind: TunedModel\nmetadata: {name: m}\nspec:\n"
        f"  baseModel: {base}\n  method: {method}\n  dataset: {{path: {data}}}\n"
    )


def errors(tree: Tree, text: str, backend: str = "") -> list[str]:
    tree.write("m.yaml", (VERTEX if not backend else "") + text)
    if backend:
        os.environ["GITOPS_TUNE_BACKEND"] = backend
    try:
        load(["."], Invocation.from_environ())
    except UserError as e:
        return [str(d) for d in e.diagnostics]
    finally:
        os.environ.pop("GITOPS_TUNE_BACKEND", None)
    return []


PREFERENCE_ROW = (
    '{"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "completions": ['
    '{"score": 1, "completion": {"role": "model", "parts": [{"text": "Hello!"}]}},'
    '{"score": 0, "completion": {"role": "model", "parts": [{"text": "hi"}]}}]}\n'
)


def test_exactly_one_reward_config_is_one_error_at_its_key(tree: Tree) -> None:
    single = (
        "{stringMatchRewardScorer: "
        "{stringMatchExpression: {matchOperation: EXACT_MATCH, expression: x}}}"
    )
    composite = f"{{weightedRewardConfigs: [{{weight: 1, rewardConfig: {single}}}]}}"
    method = (
        f"{{reinforcement: {{singleRewardConfig: {single}, compositeRewardConfig: {composite}}}}}"
    )
    found = errors(tree, model(method, "gemini-3.5-flash"))
    assert found == [
        "m.yaml:11:12: spec.method.reinforcement: set exactly one of singleRewardConfig, "
        "compositeRewardConfig (singleRewardConfig and compositeRewardConfig are set)"
    ]


def test_a_method_the_base_model_is_not_offered_names_those_that_are(tree: Tree) -> None:
    tree.write("d.jsonl", PREFERENCE_ROW * 3)
    (found,) = errors(tree, model("{preference: {beta: 0.1}}", "gemini-2.5-pro"))
    assert found.startswith("m.yaml:10:3: spec.baseModel: gemini-2.5-pro is not offered")
    assert "gemini-2.5-flash, gemini-2.5-flash-lite" in found
    assert "About preference tuning for Gemini models" in found


def test_the_gemini_api_runs_supervised_tuning_only(tree: Tree) -> None:
    tree.write("d.jsonl", PREFERENCE_ROW * 3)
    text = model("{preference: {beta: 0.1}}", "models/gemini-1.5-flash-001-tuning")
    found = errors(tree, text, backend="gemini")
    assert found == [
        "m.yaml:6:12: spec.method: preference tuning does not apply to backend gemini: the "
        "Gemini API runs supervised tuning only"
    ]
