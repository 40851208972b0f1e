"""The Gemini API dialect: ``tunedModels``, their operations and base ``models``.

Shapes follow the public v1beta REST reference (ai.google.dev/api/tuning): camelCase JSON,
proto3 style (empty strings, zeros and false are left out), google.longrunning Operations for
create. Every success is HTTP 200, as Google answers and as google-genai requires.
"""

from __future__ import annotations

import base64
import difflib
import json
import math
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from gitops_tune.emulator import training
from gitops_tune.emulator.api import (
    ApiError,
    Request,
    Response,
    Route,
    invalid,
    not_found,
    reject_unknown,
)
from gitops_tune.emulator.store import AlreadyExists, ModelRecord, Store

API_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta"
ID_PATTERN = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?\Z")
DISPLAY_NAME_MAX = 40
INPUT_MAX_CHARS = 40_000  # per example, as the tuning guide states for Gemini 1.5 Flash
OUTPUT_MAX_CHARS = 5_000
MAX_TOTAL_STEPS = 1_000_000  # an emulator limit, so snapshots stay cheap to compute
TUNED_PAGE_DEFAULT, MODELS_PAGE_DEFAULT, PAGE_MAX = 10, 50, 1000
OWNER_OPERATORS = ("owner:me", "writers:me", "readers:me")

_TOP_LEVEL_INPUT = {
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
_OUTPUT_ONLY = {"name", "state", "createTime", "updateTime"}
_MUTABLE = ("displayName", "description", "temperature", "topP", "topK")
_IMMUTABLE = ("baseModel", "tuningTask", "tunedModelSource", "readerProjectNumbers")


@dataclass(frozen=True)
class BaseModel:
    name: str  # "models/..."
    display_name: str
    methods: tuple[str, ...]
    version: str = "001"
    description: str = ""
    input_token_limit: int = 16384
    output_token_limit: int = 8192
    temperature: float = 1.0
    max_temperature: float = 2.0
    top_p: float = 0.95
    top_k: int = 64

    @property
    def tunable(self) -> bool:
        return "createTunedModel" in self.methods

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseModelId": self.name.removeprefix("models/"),
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.methods),
            "temperature": self.temperature,
            "maxTemperature": self.max_temperature,
            "topP": self.top_p,
            "topK": self.top_k,
        }


TUNABLE_METHODS = ("generateContent", "countTokens", "createTunedModel")

DEFAULT_BASE_MODELS: tuple[BaseModel, ...] = (
    BaseModel(
        "models/gemini-1.5-flash-001-tuning",
        "Gemini 1.5 Flash 001 Tuning",
        TUNABLE_METHODS,
        description="Version of Gemini 1.5 Flash that supports tuning.",
    ),
    BaseModel(
        "models/gemini-1.5-flash-001",
        "Gemini 1.5 Flash 001",
        ("generateContent", "countTokens", "createCachedContent"),
        input_token_limit=1_000_000,
        description="Gemini 1.5 Flash (does not support tuning).",
    ),
    BaseModel(
        "models/gemini-1.5-pro-001",
        "Gemini 1.5 Pro 001",
        ("generateContent", "countTokens", "createCachedContent"),
        input_token_limit=2_000_000,
        description="Gemini 1.5 Pro (does not support tuning).",
    ),
    BaseModel(
        "models/gemini-2.0-flash",
        "Gemini 2.0 Flash",
        ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent"),
        version="2.0",
        input_token_limit=1_048_576,
        description="Gemini 2.0 Flash (does not support tuning).",
    ),
)


def base_models_with(extra: Iterable[str]) -> tuple[BaseModel, ...]:
    """The default base models plus tunable ``extra`` ones (``NAME`` or ``models/NAME``)."""
    models = {m.name: m for m in DEFAULT_BASE_MODELS}
    for raw in extra:
        name = raw if raw.startswith("models/") else f"models/{raw}"
        models[name] = BaseModel(name, name.removeprefix("models/"), TUNABLE_METHODS)
    return tuple(models.values())


# -- validation ---------------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(value: object, path: str) -> int:
    if _is_number(value) and value == int(value) and value >= 1:
        return int(value)
    raise invalid(f"{path} must be a positive integer, got {json.dumps(value)}.")


def _positive_number(value: object, path: str) -> float:
    if _is_number(value) and value > 0:
        return float(value)
    raise invalid(f"{path} must be a positive number, got {json.dumps(value)}.")


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
        t = body["temperature"]
        if not _is_number(t) or not 0 <= t <= 2:
            raise invalid(f"temperature must be a number in [0, 2], got {json.dumps(t)}.")
        out["temperature"] = float(t)
    if body.get("topP") is not None:
        p = body["topP"]
        if not _is_number(p) or not 0 <= p <= 1:
            raise invalid(f"topP must be a number in [0, 1], got {json.dumps(p)}.")
        out["topP"] = float(p)
    if body.get("topK") is not None:
        out["topK"] = _positive_int(body["topK"], "topK")
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
        out["epochCount"] = _positive_int(hp["epochCount"], "tuningTask.hyperparameters.epochCount")
    if hp.get("batchSize") is not None:
        out["batchSize"] = _positive_int(hp["batchSize"], "tuningTask.hyperparameters.batchSize")
    if hp.get("learningRateMultiplier") is not None:
        out["learningRateMultiplier"] = _positive_number(
            hp["learningRateMultiplier"], "tuningTask.hyperparameters.learningRateMultiplier"
        )
    elif hp.get("learningRate") is not None:
        out["learningRate"] = _positive_number(
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


def _page_size(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        raise invalid(f"pageSize must be an integer, got {raw!r}.") from None
    if size < 0:
        raise invalid(f"pageSize must not be negative, got {size}.")
    return min(size or default, PAGE_MAX)


def _encode_token(after: str, query: str) -> str:
    raw = json.dumps({"after": after, "q": query}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, query: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, q = data["after"], data["q"]
        if not isinstance(after, str) or not isinstance(q, str):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page token {token!r}.") from None
    if q != query:
        raise invalid("The page token was issued for a different filter; parameters must match.")
    return after


def _filter_terms(raw: str | None) -> list[str] | None:
    """Full-text terms of a list filter; None when nothing can match (readers:everyone)."""
    terms: list[str] = []
    for word in (raw or "").split():
        lowered = word.casefold()
        if lowered in OWNER_OPERATORS:
            continue  # every emulated model belongs to the caller
        if lowered == "readers:everyone":
            return None  # the emulator shares nothing with everyone
        terms.append(word)
    return terms


def _prompt_text(body: Mapping[str, Any]) -> str:
    contents = body.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise invalid("contents is required and must be a non-empty list.")
    last = contents[-1]
    if not isinstance(last, dict) or not isinstance(last.get("parts"), list):
        raise invalid("contents[].parts must be a list of parts.")
    texts = [p["text"] for p in last["parts"] if isinstance(p, dict) and "text" in p]
    if not texts or not all(isinstance(t, str) for t in texts):
        raise invalid("Only text input is supported by tuned models.")
    return "".join(texts)


def answer_for(prompt: str, examples: Sequence[tuple[str, str]]) -> str:
    """The output of the example whose input equals ``prompt``, else of the most similar one
    (difflib ratio, case-insensitive; ties go to the earliest example)."""
    for text_input, output in examples:
        if text_input == prompt:
            return output
    best_output, best_score = "", -1.0
    wanted = prompt.casefold()
    for text_input, output in examples:
        score = difflib.SequenceMatcher(None, wanted, text_input.casefold()).ratio()
        if score > best_score:
            best_output, best_score = output, score
    return best_output


# -- the dialect ----------------------------------------------------------------------------


class GeminiDialect:
    """Handlers for the Gemini API surface over one `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        train_seconds: Callable[[], float],
        base_models: Sequence[BaseModel] = DEFAULT_BASE_MODELS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.train_seconds = train_seconds
        self.base_models = {m.name: m for m in base_models}

    def routes(self) -> list[Route]:
        """v1beta: the whole surface. v1: what the public v1 reference documents for these
        resources, i.e. base models and tuned-model operations (see docs/emulator.md)."""
        v1beta = "/v1beta"
        routes = [
            Route("GET", f"{v1beta}/models", self.list_models),
            Route("GET", f"{v1beta}/models/{{id}}", self.get_model),
            Route("POST", f"{v1beta}/tunedModels", self.create),
            Route("GET", f"{v1beta}/tunedModels", self.list),
            Route("GET", f"{v1beta}/tunedModels/{{id}}", self.get),
            Route("PATCH", f"{v1beta}/tunedModels/{{id}}", self.patch),
            Route("DELETE", f"{v1beta}/tunedModels/{{id}}", self.delete),
            Route("POST", f"{v1beta}/tunedModels/{{id}}:generateContent", self.generate_content),
        ]
        for version in ("/v1beta", "/v1"):
            routes += [
                Route("GET", f"{version}/tunedModels/{{id}}/operations", self.list_operations),
                Route("GET", f"{version}/tunedModels/{{id}}/operations/{{op}}", self.get_operation),
                Route(
                    "POST",
                    f"{version}/tunedModels/{{id}}/operations/{{op}}:cancel",
                    self.cancel_operation,
                ),
            ]
        routes += [
            Route("GET", "/v1/models", self.list_models),
            Route("GET", "/v1/models/{id}", self.get_model),
        ]
        return routes

    # -- rendering ------------------------------------------------------------------------

    def _job(self, rec: ModelRecord) -> training.Job:
        return training.Job(
            start=rec.create_time,
            train_seconds=rec.train_seconds,
            steps=rec.total_steps,
            steps_per_epoch=rec.steps_per_epoch,
            seed=rec.data_seed,
            fail=rec.fail,
            cancel_time=rec.cancel_time,
        )

    def tuned_model_json(self, rec: ModelRecord, now: float) -> dict[str, Any]:
        job = self._job(rec)
        prog = training.progress(job, now)
        task: dict[str, Any] = {"startTime": training.rfc3339(rec.create_time)}
        if prog.complete_time is not None:
            task["completeTime"] = training.rfc3339(prog.complete_time)
        snaps = _snapshots_json(job, prog.completed_steps)
        if snaps:
            task["snapshots"] = snaps
        task["hyperparameters"] = dict(rec.hyperparameters)
        update_time = rec.update_time
        if prog.complete_time is not None:
            update_time = max(update_time, prog.complete_time)
        out: dict[str, Any] = {"name": f"tunedModels/{rec.id}"}
        if rec.display_name:
            out["displayName"] = rec.display_name
        if rec.description:
            out["description"] = rec.description
        out["state"] = prog.state
        out["createTime"] = training.rfc3339(rec.create_time)
        out["updateTime"] = training.rfc3339(update_time)
        out["baseModel"] = rec.base_model
        out.update(rec.sampling)
        out["tuningTask"] = task
        return out

    def operation_json(self, rec: ModelRecord, now: float) -> dict[str, Any]:
        job = self._job(rec)
        prog = training.progress(job, now)
        metadata: dict[str, Any] = {
            "@type": f"{API_TYPE}.CreateTunedModelMetadata",
            "tunedModel": f"tunedModels/{rec.id}",
            "totalSteps": rec.total_steps,
        }
        if prog.completed_steps:
            metadata["completedSteps"] = prog.completed_steps
            metadata["completedPercent"] = round(100.0 * prog.completed_steps / rec.total_steps, 4)
            metadata["snapshots"] = _snapshots_json(job, prog.completed_steps)
        out: dict[str, Any] = {
            "name": f"tunedModels/{rec.id}/operations/{rec.operation_id}",
            "metadata": metadata,
        }
        if prog.state == "ACTIVE":
            out["done"] = True
            out["response"] = {"@type": f"{API_TYPE}.TunedModel", **self.tuned_model_json(rec, now)}
        elif prog.state == "FAILED":
            out["done"] = True
            out["error"] = {"code": 1 if prog.cancelled else 13, "message": prog.error or ""}
        return out

    def _record(self, model_id: str) -> ModelRecord:
        rec = self.store.get(model_id)
        if rec is None:
            raise not_found(f"Tuned model tunedModels/{model_id} does not exist.")
        return rec

    def _operation_record(self, req: Request) -> ModelRecord:
        rec = self._record(req.params["id"])
        if req.params["op"] != rec.operation_id:
            raise not_found(
                f"Operation tunedModels/{rec.id}/operations/{req.params['op']} does not exist."
            )
        return rec

    # -- tunedModels ----------------------------------------------------------------------

    def create(self, req: Request) -> Response:
        body = req.json()
        requested_id = req.arg("tunedModelId")
        if requested_id is not None and not ID_PATTERN.match(requested_id):
            raise invalid(
                f"tunedModelId {requested_id!r} is invalid: it must match "
                "[a-z]([a-z0-9-]{0,38}[a-z0-9])? (up to 40 characters, a letter first, "
                "a letter or digit last)."
            )
        reject_unknown(body, _TOP_LEVEL_INPUT | _OUTPUT_ONLY, "tuned_model")
        if body.get("tunedModelSource") is not None:
            raise invalid("tunedModelSource is not supported by the emulator; use baseModel.")
        base_name = body.get("baseModel")
        if base_name is None:
            raise invalid("baseModel is required.")
        base_name = _string(base_name, "baseModel")
        base = self.base_models.get(base_name)
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
        display_name = _display_name(body.get("displayName", ""))
        description = _string(body.get("description", ""), "description")
        sampling = _sampling(body)
        if body.get("tuningTask") is None:
            raise invalid("tuningTask is required.")
        task = _object(body["tuningTask"], "tuningTask")
        reject_unknown(
            task,
            ("trainingData", "hyperparameters", "startTime", "completeTime", "snapshots"),
            "tuned_model.tuning_task",
        )
        examples = _examples(task)
        hyper = _hyperparameters(task.get("hyperparameters"), len(examples))
        per_epoch = training.steps_per_epoch(len(examples), int(hyper["batchSize"]))
        now = self.clock()
        fail = re.search(rf"\b{training.FAIL_WORD}\b", display_name) is not None
        base_record = ModelRecord(
            id="",
            display_name=display_name,
            description=description,
            base_model=base.name,
            hyperparameters=hyper,
            sampling={
                "temperature": sampling.get("temperature", base.temperature),
                "topP": sampling.get("topP", base.top_p),
                "topK": sampling.get("topK", base.top_k),
            },
            create_time=now,
            update_time=now,
            train_seconds=self.train_seconds(),
            total_steps=per_epoch * int(hyper["epochCount"]),
            steps_per_epoch=per_epoch,
            example_count=len(examples),
            data_seed=training.data_seed(examples),
            fail=fail,
            operation_id="",
        )
        for attempt in range(8):
            model_id = requested_id or _generated_id(display_name)
            rec = _with_ids(base_record, model_id, _operation_id())
            try:
                self.store.insert(rec, examples)
            except AlreadyExists:
                if requested_id is not None:
                    raise ApiError(
                        409, f"Tuned model tunedModels/{model_id} already exists.", "ALREADY_EXISTS"
                    ) from None
                if attempt == 7:
                    raise
                continue
            return Response(200, self.operation_json(rec, now))
        raise AssertionError("unreachable")

    def get(self, req: Request) -> Response:
        return Response(200, self.tuned_model_json(self._record(req.params["id"]), self.clock()))

    def list(self, req: Request) -> Response:
        size = _page_size(req.arg("pageSize"), TUNED_PAGE_DEFAULT)
        raw_filter = req.arg("filter") or ""
        token = req.arg("pageToken")
        after = _decode_token(token, raw_filter) if token else None
        terms = _filter_terms(raw_filter)
        if terms is None:
            return Response(200, {})
        records = self.store.page(after, size + 1, terms)
        now = self.clock()
        out: dict[str, Any] = {}
        page = records[:size]
        if page:
            out["tunedModels"] = [self.tuned_model_json(r, now) for r in page]
        if len(records) > size:
            out["nextPageToken"] = _encode_token(page[-1].id, raw_filter)
        return Response(200, out)

    def patch(self, req: Request) -> Response:
        model_id = req.params["id"]
        body = req.json()
        reject_unknown(body, _TOP_LEVEL_INPUT | _OUTPUT_ONLY, "tuned_model")
        current = self._record(model_id)
        mask_raw = req.arg("updateMask")
        if mask_raw is not None and mask_raw.strip():
            fields = [_camel(f.strip()) for f in mask_raw.split(",") if f.strip()]
            for f in fields:
                if f in _IMMUTABLE or f.split(".")[0] in _IMMUTABLE:
                    raise invalid(f"updateMask: field {f!r} is immutable and cannot be updated.")
                if f in _OUTPUT_ONLY:
                    raise invalid(f"updateMask: field {f!r} is output only.")
                if f not in _MUTABLE:
                    raise invalid(f"updateMask: unknown field {f!r}.")
        else:
            for f in _IMMUTABLE:
                if f not in body:
                    continue
                if f == "baseModel" and body[f] == current.base_model:
                    continue  # the resource sent back unchanged
                raise invalid(f"Field {f!r} is immutable and cannot be updated.")
            fields = [f for f in _MUTABLE if f in body]
        changes: dict[str, object] = {}
        for f in fields:
            value = body.get(f)
            if f == "displayName":
                changes["display_name"] = "" if value is None else _display_name(value)
            elif f == "description":
                changes["description"] = "" if value is None else _string(value, "description")
            else:
                changes[f] = _sampling({f: value}).get(f)
        rec = self.store.update(model_id, changes, self.clock())
        if rec is None:
            raise not_found(f"Tuned model tunedModels/{model_id} does not exist.")
        return Response(200, self.tuned_model_json(rec, self.clock()))

    def delete(self, req: Request) -> Response:
        model_id = req.params["id"]
        if not self.store.delete(model_id):
            raise not_found(f"Tuned model tunedModels/{model_id} does not exist.")
        return Response(200, {})

    def generate_content(self, req: Request) -> Response:
        rec = self._record(req.params["id"])
        state = training.progress(self._job(rec), self.clock()).state
        if state != "ACTIVE":
            raise ApiError(
                400,
                f"Tuned model tunedModels/{rec.id} is not ready for use: its state is {state}.",
                "FAILED_PRECONDITION",
            )
        prompt = _prompt_text(req.json())
        text = answer_for(prompt, self.store.examples(rec.id))
        prompt_tokens = max(1, len(prompt.split()))
        answer_tokens = max(1, len(text.split()))
        return Response(
            200,
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": text}], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": prompt_tokens,
                    "candidatesTokenCount": answer_tokens,
                    "totalTokenCount": prompt_tokens + answer_tokens,
                },
                "modelVersion": f"tunedModels/{rec.id}",
            },
        )

    # -- operations -----------------------------------------------------------------------

    def get_operation(self, req: Request) -> Response:
        return Response(200, self.operation_json(self._operation_record(req), self.clock()))

    def list_operations(self, req: Request) -> Response:
        rec = self._record(req.params["id"])
        return Response(200, {"operations": [self.operation_json(rec, self.clock())]})

    def cancel_operation(self, req: Request) -> Response:
        """Stops training: the model stays, FAILED, and its operation ends with CANCELLED
        (code 1). Cancelling a finished operation changes nothing and succeeds."""
        rec = self._operation_record(req)
        self.store.cancel(rec.id, self.clock())
        return Response(200, {})

    # -- base models ----------------------------------------------------------------------

    def list_models(self, req: Request) -> Response:
        size = _page_size(req.arg("pageSize"), MODELS_PAGE_DEFAULT)
        token = req.arg("pageToken")
        after = _decode_token(token, "") if token else ""
        names = sorted(n for n in self.base_models if n > after)
        out: dict[str, Any] = {"models": [self.base_models[n].to_json() for n in names[:size]]}
        if len(names) > size:
            out["nextPageToken"] = _encode_token(names[size - 1], "")
        return Response(200, out)

    def get_model(self, req: Request) -> Response:
        name = f"models/{req.params['id']}"
        model = self.base_models.get(name)
        if model is None:
            raise not_found(f"Model {name} is not found for the emulated API version.")
        return Response(200, model.to_json())


def _snapshots_json(job: training.Job, completed: int) -> list[dict[str, Any]]:
    return [
        {
            "step": s.step,
            "epoch": s.epoch,
            "meanLoss": s.mean_loss,
            "computeTime": training.rfc3339(s.compute_time),
        }
        for s in training.snapshots(job, completed)
    ]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _random_part(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def _generated_id(display_name: str) -> str:
    """Like the real API: the displayName's words joined by hyphens plus a random suffix
    (``sentence-translator-u3b7m``); a random ID when there are no usable words."""
    words = re.findall(r"[a-z0-9]+", display_name.lower())
    stem = "-".join(words)[:33].strip("-")
    if stem and stem[0].isalpha():
        return f"{stem}-{_random_part(5)}"
    return secrets.choice(_ALPHABET[:26]) + _random_part(10)


def _operation_id() -> str:
    return _random_part(12)


def _with_ids(rec: ModelRecord, model_id: str, operation_id: str) -> ModelRecord:
    from dataclasses import replace

    return replace(rec, id=model_id, operation_id=operation_id)
