"""Vertex AI on the wire: request checks and the JSON shape of a tuning job.

Shapes follow the public Vertex AI REST reference: camelCase JSON in proto3 style (int64
fields as strings, empty fields left out), labels validated like Google Cloud labels and a
list ``filter`` on labels. What the emulator answers (jobs, models, endpoints, operations) is
shaped in `resources`; how a job moves through its states, in `timeline`. Training data is
in the Gemini supervised-tuning JSONL format (``contents`` with ``user`` and ``model`` turns,
an optional ``systemInstruction``, text and ``fileData`` parts naming objects in the
emulator's Cloud Storage, one ``generationConfig.mediaResolution`` for every example).

A tuning job is stored as one JSON document (kind `KIND_JOB`) that also carries the tuned model
and endpoint it produces; the helpers at the end read that document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_tune.emulator.api import (
    Handler,
    Route,
    invalid,
    positive_int,
    positive_number,
    proto_enum,
    proto_json,
    reject_unknown,
)
from gitops_tune.emulator.vertex import methods
from gitops_tune.emulator.vertex.options import identity, pre_tuned

ObjectCheck = Callable[[str, str], "str | None"]
"""(bucket, object) -> its content type, None when there is no such object."""

KIND_JOB = "vertex-job"
API_TYPE = "type.googleapis.com/google.cloud.aiplatform.v1"
VERSIONS = ("v1beta1", "v1")
LOCATION = "/projects/{project}/locations/{location}"
TUNABLE_BASE_MODELS = (
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash-001",
    "gemini-2.0-flash-lite-001",
)
OTHER_BASE_MODELS = ("gemini-2.5-flash-image", "gemini-1.5-pro-002")
#: ``SupervisedHyperParameters.AdapterSize`` (tuning_job.proto): name -> enum number
ADAPTER_SIZE_NUMBERS = {
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 6,
    "ADAPTER_SIZE_FOUR": 2,
    "ADAPTER_SIZE_EIGHT": 3,
    "ADAPTER_SIZE_SIXTEEN": 4,
    "ADAPTER_SIZE_THIRTY_TWO": 5,
}
ADAPTER_SIZES = tuple(ADAPTER_SIZE_NUMBERS)
#: Map fields of the request messages: their keys are data, not field names.
MAP_FIELDS = frozenset({"labels", "trafficSplit"})
DEFAULT_EPOCH_COUNT = 5
DEFAULT_LEARNING_RATE_MULTIPLIER = 1.0
#: What recorded real TuningJob responses carry when no adapter size was sent (a
#: ``JOB_STATE_FAILED`` response kept in mscraftsman/generative-ai's TuningJob type); the
#: emulator fills it the same way, so clients meet server-filled values.
DEFAULT_ADAPTER_SIZE = "ADAPTER_SIZE_FOUR"
STEP_BATCH = 4  # the emulator counts steps as if batches held 4 examples
DISPLAY_NAME_MAX = 128
LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}\Z")
LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}\Z")
_FILTER_TERM = re.compile(r'labels\.([a-z][a-z0-9_-]*)\s*(=|:)\s*("([^"]*)"|[a-z0-9_*-]+)\Z')
_TOP_LEVEL = {
    "baseModel",
    "preTunedModel",
    "tunedModelDisplayName",
    "description",
    "labels",
    "supervisedTuningSpec",
    "preferenceOptimizationSpec",
    "reinforcementTuningSpec",
    "distillationSpec",
    "serviceAccount",
    "encryptionSpec",
}
_SPEC = {
    "trainingDatasetUri",
    "validationDatasetUri",
    "hyperParameters",
    "exportLastCheckpointOnly",
    "evaluationConfig",
}
_HYPER = {"epochCount", "learningRateMultiplier", "adapterSize", "learningRate", "batchSize"}


def bearer_routes(table: Sequence[tuple[str, str, Handler]]) -> list[Route]:
    """Each ``(method, path after the version, handler)`` under every API version, for
    callers with an OAuth bearer token."""
    return [Route(m, f"/{v}{path}", h, auth="bearer") for v in VERSIONS for m, path, h in table]


def _labels(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid("labels must be a map of strings.")
    if len(raw) > 64:
        raise invalid(f"At most 64 labels are allowed, got {len(raw)}.")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not LABEL_KEY.match(str(key)):
            raise invalid(
                f"Label key {key!r} is invalid: 1-63 characters, lowercase letters, digits, "
                "'_' and '-', starting with a letter."
            )
        if not isinstance(value, str) or not LABEL_VALUE.match(value):
            raise invalid(
                f"Label value {value!r} of {key!r} is invalid: at most 63 characters, "
                "lowercase letters, digits, '_' and '-'."
            )
        out[str(key)] = value
    return out


labels = _labels  # Google Cloud labels, as models.patch and endpoints.patch check them too


def gs_uri(uri: object, path: str) -> tuple[str, str]:
    """``gs://BUCKET/OBJECT`` -> (bucket, object name)."""
    if not isinstance(uri, str) or not uri.startswith("gs://") or "/" not in uri[5:]:
        raise invalid(f"{path} must be a Cloud Storage URI gs://BUCKET/OBJECT, got {uri!r}.")
    bucket, _, name = uri[5:].partition("/")
    return bucket, name


def parse_filter(raw: str) -> list[tuple[str, str | None]]:
    """``labels.KEY=VALUE`` / ``labels.KEY="VALUE"`` / ``labels.KEY:*`` terms joined by AND
    (or spaces): (key, value or None for existence). Anything else is refused."""
    terms: list[tuple[str, str | None]] = []
    for part in re.split(r"\s+AND\s+|\s+", raw.strip()) if raw.strip() else []:
        m = _FILTER_TERM.match(part)
        if m is None:
            raise invalid(
                f"Unsupported filter {raw!r}: the emulator supports labels.KEY=VALUE and "
                "labels.KEY:* terms joined by AND."
            )
        key, op, value = (
            m.group(1),
            m.group(2),
            m.group(4) if m.group(4) is not None else m.group(3),
        )
        if op == ":" and value != "*":
            raise invalid(f"Unsupported filter {raw!r}: ':' takes '*' only.")
        terms.append((key, None if op == ":" else value))
    return terms


# -- training data ----------------------------------------------------------------------------


_PART_KEYS = ("text", "fileData", "mediaResolution", "videoMetadata")
_RESOLUTIONS = ("MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH")


def _part_chars(part: object, where: str, exists: ObjectCheck) -> int:
    """One part: non-empty text, or fileData naming an object that exists with that type."""
    if not isinstance(part, dict):
        raise invalid(f"{where}: each part must be an object.")
    reject_unknown(part, _PART_KEYS, where)
    text, data = part.get("text"), part.get("fileData")
    if (text is None) == (data is None):
        raise invalid(f"{where}: a part must hold exactly one of text or fileData.")
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            raise invalid(f"{where}.text must be non-empty text.")
        return len(text)
    if not isinstance(data, dict):
        raise invalid(f"{where}.fileData must be an object.")
    reject_unknown(data, ("mimeType", "fileUri"), f"{where}.fileData")
    uri, mime = data.get("fileUri"), data.get("mimeType")
    bucket, name = gs_uri(uri, f"{where}.fileData.fileUri")
    if not isinstance(mime, str) or not mime:
        raise invalid(f"{where}.fileData.mimeType is required.")
    stored = exists(bucket, name)
    if stored is None:
        raise invalid(f"{where}.fileData.fileUri: {uri} does not exist or cannot be read.")
    if stored != mime:
        raise invalid(f"{where}.fileData: {uri} has content type {stored}, not {mime}.")
    return 0


def _turn_chars(turn: object, i: int, where: str, exists: ObjectCheck) -> int:
    """The text length of ``contents[i]``, which must have the role this position calls for
    and non-empty parts (model turns: text only)."""
    role = turn.get("role") if isinstance(turn, dict) else None
    expected = "user" if i % 2 == 0 else "model"
    if not isinstance(turn, dict) or role != expected:
        raise invalid(f"{where}: contents[{i}].role must be {expected!r}, got {role!r}.")
    reject_unknown(turn, ("role", "parts"), f"{where}: contents[{i}]")
    parts = turn.get("parts")
    if not isinstance(parts, list) or not parts:
        raise invalid(f"{where}: contents[{i}].parts must be a non-empty list.")
    chars = 0
    for j, part in enumerate(parts):
        path = f"{where}: contents[{i}].parts[{j}]"
        if expected == "model" and isinstance(part, dict) and "text" not in part:
            raise invalid(f"{path}: model turns must carry text.")
        chars += _part_chars(part, path, exists)
    return chars


def _system_chars(value: object, where: str) -> int:
    if not isinstance(value, dict) or not isinstance(value.get("parts"), list):
        raise invalid(f"{where}: systemInstruction must hold a list of parts.")
    reject_unknown(value, ("role", "parts"), f"{where}: systemInstruction")
    chars = 0
    for part in value["parts"]:
        text = part.get("text") if isinstance(part, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise invalid(f"{where}: systemInstruction.parts[] must carry non-empty text.")
        chars += len(text)
    return chars


def _example_chars(line: str, where: str, exists: ObjectCheck) -> tuple[int, str | None]:
    """Check one JSONL line (one example); its text length and mediaResolution."""
    row = methods.json_row(line, where)
    reject_unknown(row, ("contents", "systemInstruction", "generationConfig"), where)
    contents = row.get("contents")
    if not isinstance(contents, list) or len(contents) < 2:
        raise invalid(f"{where}: contents must hold a user turn and a model turn.")
    chars = sum(_turn_chars(turn, i, where, exists) for i, turn in enumerate(contents))
    if contents[-1].get("role") != "model":
        raise invalid(f"{where}: the last turn must be the model's.")
    if "systemInstruction" in row:
        chars += _system_chars(row["systemInstruction"], where)
    config = row.get("generationConfig") or {}
    resolution = config.get("mediaResolution") if isinstance(config, dict) else None
    if resolution is not None and resolution not in _RESOLUTIONS:
        raise invalid(f"{where}: generationConfig.mediaResolution {resolution!r} is invalid.")
    return chars, resolution


def count_examples(
    data: bytes, uri: str, path: str, exists: ObjectCheck | None = None
) -> tuple[int, int]:
    """Check a supervised-tuning JSONL object's bytes; (examples, characters). ``exists``
    answers the content type of a ``fileData`` object (None: no such object)."""
    count = chars = 0
    resolutions: set[str] = set()
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        found, resolution = _example_chars(line, f"{uri} line {number}", exists or _no_objects)
        chars += found
        resolutions.update([resolution] if resolution else [])
        if len(resolutions) > 1:
            raise invalid(
                f"{uri} line {number}: mediaResolution must be the same in every example."
            )
        count += 1
    if count == 0:
        raise invalid(f"{path}: {uri} holds no examples.")
    return count, chars


def _no_objects(bucket: str, name: str) -> str | None:
    return None


# -- tuningJobs.create ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewJob:
    """The checked top of a ``tuningJobs.create`` body (datasets and hyperparameters are
    checked after it, in that order)."""

    base_model: str  # "" when tuning further from ``pre_tuned`` (its base is that model's)
    display_name: str
    description: str
    labels: dict[str, str]
    spec: dict[str, Any]  # the method's spec (`methods.SPECS`), its field names checked
    pre_tuned: dict[str, str] | None = None  # preTunedModel: tunedModelName, checkpointId
    service_account: str = ""
    encryption_spec: dict[str, str] | None = None
    method: str = "supervised"


def _base_model(body: Mapping[str, Any], tunable: Sequence[str]) -> str:
    base = body.get("baseModel")
    if not isinstance(base, str) or not base:
        raise invalid("baseModel is required.")
    if base not in tunable:
        why = "not supported for supervised tuning" if base in OTHER_BASE_MODELS else "unknown"
        raise invalid(f"Base model {base} is {why}. Supported: {', '.join(tunable)}.")
    return base


def new_job(raw: Mapping[str, Any], tunable: Sequence[str] = TUNABLE_BASE_MODELS) -> NewJob:
    """The body as a proto3 JSON parser reads a ``TuningJob``: field names in either spelling
    (`proto_json`), unknown ones refused."""
    body: dict[str, Any] = proto_json(dict(raw), MAP_FIELDS)
    reject_unknown(body, _TOP_LEVEL, "tuning_job")
    pre = pre_tuned(body["preTunedModel"]) if body.get("preTunedModel") is not None else None
    if pre is not None and body.get("baseModel"):
        raise invalid("Only one of baseModel and preTunedModel may be set.")
    base = _base_model(body, tunable) if pre is None else ""
    display = body.get("tunedModelDisplayName", "")
    if not isinstance(display, str) or len(display) > DISPLAY_NAME_MAX:
        raise invalid(
            f"tunedModelDisplayName must be a string of at most {DISPLAY_NAME_MAX} characters."
        )
    description = body.get("description", "")
    if not isinstance(description, str):
        raise invalid("description must be a string.")
    labels = _labels(body.get("labels"))
    method, _, spec = methods.spec_of(body)
    if method == "supervised":
        reject_unknown(spec, _SPEC, "tuning_job.supervised_tuning_spec")
    account, encryption = identity(body)
    return NewJob(base, display, description, labels, spec, pre, account, encryption, method)


def hyperparameters(spec: Mapping[str, Any], base: str) -> dict[str, Any]:
    """``supervisedTuningSpec.hyperParameters`` with the defaults filled in."""
    raw = spec.get("hyperParameters") or {}
    if not isinstance(raw, dict):
        raise invalid("supervisedTuningSpec.hyperParameters must be an object.")
    reject_unknown(raw, _HYPER, "tuning_job.supervised_tuning_spec.hyper_parameters")
    for only_open in ("learningRate", "batchSize"):
        if raw.get(only_open) is not None:
            raise invalid(
                f"supervisedTuningSpec.hyperParameters.{only_open} is only available for "
                f"open source models, not {base}."
            )
    hyper: dict[str, Any] = {
        "epochCount": DEFAULT_EPOCH_COUNT,
        "learningRateMultiplier": DEFAULT_LEARNING_RATE_MULTIPLIER,
    }
    path = "supervisedTuningSpec.hyperParameters"
    if raw.get("epochCount") is not None:
        hyper["epochCount"] = positive_int(raw["epochCount"], f"{path}.epochCount")
    if raw.get("learningRateMultiplier") is not None:
        hyper["learningRateMultiplier"] = positive_number(
            raw["learningRateMultiplier"], f"{path}.learningRateMultiplier"
        )
    size = raw.get("adapterSize")
    hyper["adapterSize"] = (
        DEFAULT_ADAPTER_SIZE
        if size is None
        else proto_enum(size, ADAPTER_SIZE_NUMBERS, f"{path}.adapterSize")
    )
    return hyper


# -- the stored job document ------------------------------------------------------------------


def parent(doc: Mapping[str, Any]) -> str:
    """``projects/P/locations/L`` of a job document (or of a request's path parameters)."""
    return f"projects/{doc['project']}/locations/{doc['location']}"


def doc_key(doc: Mapping[str, Any]) -> str:
    """The store key of a job document: ``PROJECT/LOCATION/ID``."""
    return f"{doc['project']}/{doc['location']}/{doc['id']}"


def answer_pairs(data: bytes) -> list[tuple[str, str]]:
    """What a model tuned on a checked JSONL object answers: every model turn of every
    example, keyed by the text of the user turn before it (multi-turn conversations give
    one pair per model turn), for `gemini.answers.answer_for`."""
    pairs: list[tuple[str, str]] = []
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        turns = json.loads(line).get("contents") or []
        for user, model in zip(turns[::2], turns[1::2], strict=False):
            prompt = "".join(str(p.get("text", "")) for p in user.get("parts", []))
            answer = "".join(str(p.get("text", "")) for p in model.get("parts", []))
            pairs.append((prompt, answer))
    return pairs
