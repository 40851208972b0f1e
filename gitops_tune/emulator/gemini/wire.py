"""The Gemini API on the wire: request checks (create, patch) against the v1beta REST
reference (ai.google.dev/api/tuning); the JSON shapes of the answers are `resources`'.
Nothing here touches the store; `handlers` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops_tune.emulator import training
from gitops_tune.emulator.api import (
    invalid,
    mask_paths,
    positive_int,
    positive_number,
    proto_number,
    reject_unknown,
)
from gitops_tune.emulator.gemini.access import reader_numbers
from gitops_tune.emulator.gemini.catalog import BaseModel

ID_PATTERN = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?\Z")
DISPLAY_NAME_MAX = 40
INPUT_MAX_CHARS = 40_000  # per example, as the tuning guide states for Gemini 1.5 Flash
OUTPUT_MAX_CHARS = 5_000
MAX_TOTAL_STEPS = 1_000_000  # an emulator limit, so snapshots stay cheap to compute

TOP_LEVEL_INPUT = frozenset(
    {
        "displayName",
        "description",
        "baseModel",
        "tunedModelSource",
        "temperature",
        "topP",
        "topK",
        "tuningTask",
        "readerProjectNumbers",
    }
)
OUTPUT_ONLY = frozenset({"name", "state", "createTime", "updateTime"})
MUTABLE = ("displayName", "description", "temperature", "topP", "topK")
IMMUTABLE = ("baseModel", "tuningTask", "tunedModelSource", "readerProjectNumbers")
_TASK_FIELDS = ("trainingData", "hyperparameters", "startTime", "completeTime", "snapshots")


# -- field checks ---------------------------------------------------------------------------


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise invalid(f"{path} must be a string, got {json.dumps(value)}.")
    return value


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{path} must be an object, got {json.dumps(value)}.")
    return value


def _display_name(value: object) -> str:
    name = _string(value, "displayName")
    if len(name) > DISPLAY_NAME_MAX:
        raise invalid(
            f"displayName must be at most {DISPLAY_NAME_MAX} characters, got {len(name)}."
        )
    return name


def _sampling(body: Mapping[str, Any]) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    if body.get("temperature") is not None:
        # TunedModel.temperature: "Values can range over [0.0,1.0], inclusive" (the v1beta
        # proto's documentation in google-ai-generativelanguage)
        t = proto_number(body["temperature"])
        if t is None or not 0 <= t <= 1:
            raise invalid(
                f"temperature must be a number in [0, 1], got {json.dumps(body['temperature'])}."
            )
        out["temperature"] = t
    if body.get("topP") is not None:
        p = proto_number(body["topP"])
        if p is None or not 0 <= p <= 1:
            raise invalid(f"topP must be a number in [0, 1], got {json.dumps(body['topP'])}.")
        out["topP"] = p
    if body.get("topK") is not None:
        out["topK"] = positive_int(body["topK"], "topK")
    return out


def _hyperparameters(raw: object, example_count: int) -> dict[str, float | int]:
    hp = _object(raw, "tuningTask.hyperparameters") if raw is not None else {}
    reject_unknown(
        hp,
        ("epochCount", "batchSize", "learningRate", "learningRateMultiplier"),
        "tuned_model.tuning_task.hyperparameters",
    )
    if hp.get("learningRate") is not None and hp.get("learningRateMultiplier") is not None:
        raise invalid(
            "tuningTask.hyperparameters: learningRate and learningRateMultiplier are mutually "
            "exclusive (oneof learning_rate_option); set at most one."
        )
    out: dict[str, float | int] = {
        "epochCount": training.DEFAULT_EPOCH_COUNT,
        "batchSize": training.DEFAULT_BATCH_SIZE,
    }
    if hp.get("epochCount") is not None:
        out["epochCount"] = positive_int(hp["epochCount"], "tuningTask.hyperparameters.epochCount")
    if hp.get("batchSize") is not None:
        out["batchSize"] = positive_int(hp["batchSize"], "tuningTask.hyperparameters.batchSize")
    if hp.get("learningRateMultiplier") is not None:
        out["learningRateMultiplier"] = positive_number(
            hp["learningRateMultiplier"], "tuningTask.hyperparameters.learningRateMultiplier"
        )
    elif hp.get("learningRate") is not None:
        out["learningRate"] = positive_number(
            hp["learningRate"], "tuningTask.hyperparameters.learningRate"
        )
    else:
        out["learningRate"] = training.DEFAULT_LEARNING_RATE
    steps = training.total_steps(example_count, int(out["batchSize"]), int(out["epochCount"]))
    if steps > MAX_TOTAL_STEPS:
        raise invalid(
            f"tuningTask: {steps} training steps exceed the emulator's limit of "
            f"{MAX_TOTAL_STEPS}; lower epochCount or raise batchSize."
        )
    return out


def _examples(task: Mapping[str, Any]) -> list[tuple[str, str]]:
    if task.get("trainingData") is None:
        raise invalid("tuningTask.trainingData is required.")
    data = _object(task["trainingData"], "tuningTask.trainingData")
    reject_unknown(data, ("examples",), "tuned_model.tuning_task.training_data")
    if data.get("examples") is None:
        raise invalid("tuningTask.trainingData.examples is required (inline examples).")
    wrapper = _object(data["examples"], "tuningTask.trainingData.examples")
    reject_unknown(wrapper, ("examples",), "tuned_model.tuning_task.training_data.examples")
    items = wrapper.get("examples")
    if not isinstance(items, list) or not items:
        raise invalid(
            "tuningTask.trainingData.examples.examples must be a non-empty list of "
            "{textInput, output} examples."
        )
    out: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        path = f"tuningTask.trainingData.examples.examples[{i}]"
        example = _object(item, path)
        reject_unknown(example, ("textInput", "output"), "tuned_model.tuning_task.training_data")
        text_input = _string(example.get("textInput"), f"{path}.textInput")
        output = _string(example.get("output"), f"{path}.output")
        if not output:
            raise invalid(f"{path}.output must not be empty.")
        if len(text_input) > INPUT_MAX_CHARS:
            raise invalid(f"{path}.textInput is longer than {INPUT_MAX_CHARS} characters.")
        if len(output) > OUTPUT_MAX_CHARS:
            raise invalid(f"{path}.output is longer than {OUTPUT_MAX_CHARS} characters.")
        out.append((text_input, output))
    return out


# -- create and patch -------------------------------------------------------------------------


@dataclass(frozen=True)
class NewModel:
    """A checked ``tunedModels.create`` body."""

    base: BaseModel
    display_name: str
    description: str
    sampling: dict[str, float | int]  # the base model's defaults filled in
    examples: list[tuple[str, str]]
    hyperparameters: dict[str, float | int]  # defaults filled in
    readers: tuple[str, ...] = ()  # readerProjectNumbers


def requested_id(raw: str | None) -> str | None:
    """``?tunedModelId=``, checked against the API's ID rule."""
    if raw is not None and not ID_PATTERN.match(raw):
        raise invalid(
            f"tunedModelId {raw!r} is invalid: it must match "
            "[a-z]([a-z0-9-]{0,38}[a-z0-9])? (up to 40 characters, a letter first, "
            "a letter or digit last)."
        )
    return raw


def _base_model(body: Mapping[str, Any], base_models: Mapping[str, BaseModel]) -> BaseModel:
    if body.get("tunedModelSource") is not None:
        raise invalid("tunedModelSource is not supported by the emulator; use baseModel.")
    if body.get("baseModel") is None:
        raise invalid("baseModel is required.")
    base_name = _string(body["baseModel"], "baseModel")
    base = base_models.get(base_name)
    if base is None:
        raise invalid(
            f"baseModel {base_name!r} does not exist; names look like "
            "'models/gemini-1.5-flash-001-tuning' (GET /v1beta/models lists them)."
        )
    if not base.tunable:
        raise invalid(
            f"baseModel {base_name!r} does not support createTunedModel; "
            "pick a model whose supportedGenerationMethods include it."
        )
    return base


def check_fields(body: Mapping[str, Any]) -> None:
    """Refuse a tuned-model field the message type does not have."""
    reject_unknown(body, TOP_LEVEL_INPUT | OUTPUT_ONLY, "tuned_model")


def new_model(body: Mapping[str, Any], base_models: Mapping[str, BaseModel]) -> NewModel:
    """Check a create body, in the order the checks answer: fields, base model, names,
    sampling, then the tuning task."""
    check_fields(body)
    base = _base_model(body, base_models)
    display_name = _display_name(body.get("displayName", ""))
    description = _string(body.get("description", ""), "description")
    sampling = _sampling(body)
    if body.get("tuningTask") is None:
        raise invalid("tuningTask is required.")
    task = _object(body["tuningTask"], "tuningTask")
    reject_unknown(task, _TASK_FIELDS, "tuned_model.tuning_task")
    examples = _examples(task)
    return NewModel(
        base=base,
        display_name=display_name,
        description=description,
        sampling={
            "temperature": sampling.get("temperature", base.temperature),
            "topP": sampling.get("topP", base.top_p),
            "topK": sampling.get("topK", base.top_k),
        },
        examples=examples,
        hyperparameters=_hyperparameters(task.get("hyperparameters"), len(examples)),
        readers=reader_numbers(body.get("readerProjectNumbers")),
    )


def _mask_fields(mask: str) -> list[str]:
    fields = mask_paths(mask)
    for f in fields:
        if f in IMMUTABLE or f.split(".")[0] in IMMUTABLE:
            raise invalid(f"updateMask: field {f!r} is immutable and cannot be updated.")
        if f in OUTPUT_ONLY:
            raise invalid(f"updateMask: field {f!r} is output only.")
        if f not in MUTABLE:
            raise invalid(f"updateMask: unknown field {f!r}.")
    return fields


def _sent_fields(body: Mapping[str, Any], base_model: str) -> list[str]:
    """Without a mask: the mutable fields in the body; an immutable one may only come back
    unchanged (the whole resource sent back)."""
    for f in IMMUTABLE:
        if f not in body:
            continue
        if f == "baseModel" and body[f] == base_model:
            continue  # the resource sent back unchanged
        raise invalid(f"Field {f!r} is immutable and cannot be updated.")
    return [f for f in MUTABLE if f in body]


def patch_changes(body: Mapping[str, Any], mask: str | None, base_model: str) -> dict[str, object]:
    """The store changes a ``tunedModels.patch`` asks for (``display_name``,
    ``description``, sampling keys; None clears a sampling value). The caller has already
    refused unknown fields (`check_fields`) and found the model."""
    if mask is not None and mask.strip():
        fields = _mask_fields(mask)
    else:
        fields = _sent_fields(body, base_model)
    changes: dict[str, object] = {}
    for f in fields:
        value = body.get(f)
        if f == "displayName":
            changes["display_name"] = "" if value is None else _display_name(value)
        elif f == "description":
            changes["description"] = "" if value is None else _string(value, "description")
        else:
            changes[f] = _sampling({f: value}).get(f)
    return changes
