"""``spec.method``: which of Google's tuning methods trains the model, and that method's own
settings, as pydantic models of the manifest format.

One form for every method: an object with exactly one key, the method's name, whose value
holds its settings (``{}`` where it has none)::

    method: {preference: {beta: 0.1}}
    method: {reinforcement: {samplesPerPrompt: 4, compositeRewardConfig: {...}}}
    method: {distillation: {baseTeacherModel: gemini-3.1-pro}}
    method: {supervised: {}}          # the same as no method at all

Every setting keeps the name Google's REST API gives it (``TuningJob`` in Vertex AI's
v1beta1 API, google-genai's ``types.py``: ``PreferenceOptimizationHyperParameters``,
``ReinforcementTuningSpec``, ``ReinforcementTuningHyperParameters``,
``SingleReinforcementTuningRewardConfig``, ``CompositeReinforcementTuningRewardConfig``,
``DistillationSpec``), so a setting in a manifest is the same JSON a tuning job echoes.
``epochCount``, ``learningRateMultiplier`` and ``adapterSize`` stay in
``spec.hyperparameters``: google-genai sends them to whichever method's spec applies.
tests/manifest/test_methods.py checks every field here against google-genai's types.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

METHODS = ("supervised", "preference", "reinforcement", "distillation")
#: google-genai's ``TuningMethod`` value for each method.
TUNING_METHOD = {
    "supervised": "SUPERVISED_FINE_TUNING",
    "preference": "PREFERENCE_TUNING",
    "reinforcement": "REINFORCEMENT_TUNING",
    "distillation": "DISTILLATION",
}
#: The Google page each method's settings and data format come from (docs/manifest.md).
PAGES = {
    "supervised": "About supervised fine-tuning for Gemini models",
    "preference": "About preference tuning for Gemini models; Prepare preference tuning data "
    "for Gemini models",
    "reinforcement": "About reinforcement learning fine-tuning for Gemini models; Quick start: "
    "Reinforcement learning fine-tuning",
    "distillation": "Gemini Distillation Service",
}
TUNED_MODEL = r"^projects/[^/]+/locations/[^/]+/models/[^/@]+(@[^/]+)?$"

_CONFIG = ConfigDict(
    extra="forbid",
    strict=True,
    allow_inf_nan=False,
    defer_build=True,
    field_title_generator=lambda name, _info: name,
)


def _one_of(*keys: str) -> ConfigDict:
    return ConfigDict(**_CONFIG, json_schema_extra={"oneOf": [{"required": [k]} for k in keys]})


class StringMatchExpression(BaseModel):
    model_config = _CONFIG

    matchOperation: Literal["REGEX_CONTAINS", "PARTIAL_MATCH", "EXACT_MATCH"] = Field(
        description="How the parsed response is compared with expression."
    )
    expression: str = Field(
        min_length=1,
        description="A string or regular expression; {{references.KEY}} is replaced by the "
        "example's reference KEY.",
    )


class JsonMatchExpression(BaseModel):
    model_config = _CONFIG

    keyName: str = Field(min_length=1, description="A first-level key of the JSON response.")
    valueStringMatchExpression: StringMatchExpression


class StringMatchRewardScorer(BaseModel):
    model_config = _one_of("stringMatchExpression", "jsonMatchExpression")

    correctAnswerReward: float | None = Field(default=None, description="Reward on a match.")
    wrongAnswerReward: float | None = Field(default=None, description="Reward otherwise.")
    stringMatchExpression: StringMatchExpression | None = None
    jsonMatchExpression: JsonMatchExpression | None = None


class CodeExecutionRewardScorer(BaseModel):
    model_config = _CONFIG

    pythonCodeSnippet: str = Field(
        min_length=1, description="def evaluate(example, response) -> float, run in a sandbox."
    )


class CloudRunRewardScorer(BaseModel):
    model_config = _CONFIG

    cloudRunUri: str = Field(
        pattern=r"^https://\S+$", description="The Cloud Run service that returns the reward."
    )


class ParseResponseConfig(BaseModel):
    model_config = _CONFIG

    parseType: Literal["IDENTITY", "REGEX_EXTRACT"]
    regexExtractExpression: str | None = Field(
        default=None, min_length=1, description="REGEX_EXTRACT only: the part to keep."
    )


class AutoraterConfig(BaseModel):
    model_config = _CONFIG

    autoraterModel: str | None = Field(default=None, min_length=1)
    samplingCount: int | None = Field(default=None, gt=0)


class AutoraterExactMatchScorer(BaseModel):
    model_config = _CONFIG

    correctAnswerReward: float | None = None
    wrongAnswerReward: float | None = None
    expression: str = Field(min_length=1)


class ParsedResponseConversionScorer(BaseModel):
    model_config = _CONFIG


class AutoraterScorer(BaseModel):
    model_config = _one_of("parsedResponseConversionScorer", "exactMatchScorer")

    autoraterConfig: AutoraterConfig | None = None
    autoraterPrompt: str = Field(
        min_length=1,
        description="Placeholders: {{prompt}}, {{response}}, {{system_instruction}}, "
        "{{references.KEY}}.",
    )
    autoraterResponseParseConfig: ParseResponseConfig | None = None
    parsedResponseConversionScorer: ParsedResponseConversionScorer | None = None
    exactMatchScorer: AutoraterExactMatchScorer | None = None


SCORERS = (
    "stringMatchRewardScorer",
    "codeExecutionRewardScorer",
    "cloudRunRewardScorer",
    "autoraterScorer",
)


class RewardConfig(BaseModel):
    """``SingleReinforcementTuningRewardConfig``: one scorer, and how to parse a response."""

    model_config = _one_of(*SCORERS)

    rewardName: str | None = Field(default=None, min_length=1, description="Unique per job.")
    parseResponseConfig: ParseResponseConfig | None = None
    stringMatchRewardScorer: StringMatchRewardScorer | None = None
    codeExecutionRewardScorer: CodeExecutionRewardScorer | None = None
    cloudRunRewardScorer: CloudRunRewardScorer | None = None
    autoraterScorer: AutoraterScorer | None = None


class WeightedRewardConfig(BaseModel):
    model_config = _CONFIG

    rewardConfig: RewardConfig
    weight: float = Field(gt=0, description="Its share of the weighted mean of the rewards.")


class CompositeRewardConfig(BaseModel):
    model_config = _CONFIG

    weightedRewardConfigs: list[WeightedRewardConfig] = Field(min_length=1)


class Supervised(BaseModel):
    model_config = _CONFIG


class Preference(BaseModel):
    model_config = _CONFIG

    beta: float | None = Field(
        default=None,
        description="Weight for KL divergence regularization: how closely the tuned model "
        "stays with its baseline (About preference tuning for Gemini models). Google "
        "documents no range; Vertex AI judges it.",
    )


class Reinforcement(BaseModel):
    model_config = _one_of("singleRewardConfig", "compositeRewardConfig")

    singleRewardConfig: RewardConfig | None = None
    compositeRewardConfig: CompositeRewardConfig | None = None
    samplesPerPrompt: int | None = Field(
        default=None, gt=0, description="Responses generated per prompt at each step."
    )
    evaluateInterval: int | None = Field(default=None, gt=0, description="Steps between evals.")
    checkpointInterval: int | None = Field(
        default=None, gt=0, description="Steps between checkpoints."
    )
    maxOutputTokens: int | None = Field(default=None, gt=0, description="Default 32768.")
    thinkingLevel: Literal["MINIMAL", "LOW", "MEDIUM", "HIGH"] | None = None


class Distillation(BaseModel):
    model_config = _one_of("baseTeacherModel", "tunedTeacherModelSource")

    baseTeacherModel: str | None = Field(
        default=None, min_length=1, description="The teacher, e.g. gemini-3.1-pro."
    )
    tunedTeacherModelSource: str | None = Field(
        default=None, pattern=TUNED_MODEL, description="A tuned teacher Model's resource name."
    )


class Method(BaseModel):
    """Exactly one key: the tuning method, with its settings."""

    model_config = _one_of(*METHODS)

    supervised: Supervised | None = None
    preference: Preference | None = None
    reinforcement: Reinforcement | None = None
    distillation: Distillation | None = None


#: (model, the keys of which exactly one must be set) for the rules `one_of_problems` checks.
_EXACTLY_ONE: tuple[tuple[type[BaseModel], tuple[str, ...]], ...] = (
    (Method, METHODS),
    (Reinforcement, ("singleRewardConfig", "compositeRewardConfig")),
    (RewardConfig, SCORERS),
    (StringMatchRewardScorer, ("stringMatchExpression", "jsonMatchExpression")),
    (AutoraterScorer, ("parsedResponseConversionScorer", "exactMatchScorer")),
    (Distillation, ("baseTeacherModel", "tunedTeacherModelSource")),
)


def name_of(method: Method | None) -> str:
    """The method's name; no method is supervised."""
    if method is None:
        return "supervised"
    return next((m for m in METHODS if getattr(method, m) is not None), "supervised")


def settings_of(method: Method | None) -> dict[str, object]:
    """The method's settings as the manifest gives them (camelCase, unset ones left out)."""
    if method is None:
        return {}
    chosen = getattr(method, name_of(method))
    return dict(chosen.model_dump(mode="json", exclude_none=True)) if chosen is not None else {}


def one_of_problems(
    value: BaseModel, path: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Where a choice is not exactly one key: (path, message), walking nested settings."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for cls, keys in _EXACTLY_ONE:
        if type(value) is cls:
            given = [k for k in keys if getattr(value, k) is not None]
            if len(given) != 1:
                said = "none is" if not given else f"{' and '.join(given)} are"
                out.append((path, f"set exactly one of {', '.join(keys)} ({said} set)"))
    for key in type(value).model_fields:
        child = getattr(value, key)
        items = child if isinstance(child, list) else [child]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                where = (*path, key, i) if isinstance(child, list) else (*path, key)
                out += one_of_problems(item, where)
    return out
