"""The Vertex AI dialect: supervised ``tuningJobs`` and the tuned ``models`` and ``endpoints``
they produce, under ``/{v1beta1|v1}/projects/{project}/locations/{location}/...``.

Shapes follow the public Vertex AI REST reference: camelCase JSON in proto3 style (int64
fields as strings, empty fields left out), ``JOB_STATE_*`` states, labels validated like Google
Cloud labels, a list ``filter`` on labels, and long-running ``Operation``s for deletions
(answered already ``done``). Training data is read from the emulator's own Cloud Storage
(`dialect_gcs`), in the Gemini supervised-tuning JSONL format (``contents`` with ``user`` and
``model`` turns). Callers need an OAuth bearer token (any non-empty one).
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

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
from gitops_tune.emulator.dialect_gcs import KIND_OBJECT
from gitops_tune.emulator.store import Store

KIND_JOB = "vertex-job"
API_TYPE = "type.googleapis.com/google.cloud.aiplatform.v1"
VERSIONS = ("v1beta1", "v1")
TUNABLE_BASE_MODELS = (
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash-001",
    "gemini-2.0-flash-lite-001",
)
OTHER_BASE_MODELS = ("gemini-2.5-flash-image", "gemini-1.5-pro-002")
ADAPTER_SIZES = (
    "ADAPTER_SIZE_ONE",
    "ADAPTER_SIZE_TWO",
    "ADAPTER_SIZE_FOUR",
    "ADAPTER_SIZE_EIGHT",
    "ADAPTER_SIZE_SIXTEEN",
    "ADAPTER_SIZE_THIRTY_TWO",
)
DEFAULT_EPOCH_COUNT = 5
DEFAULT_LEARNING_RATE_MULTIPLIER = 1.0
STEP_BATCH = 4  # the emulator counts steps as if batches held 4 examples
DISPLAY_NAME_MAX = 128
PAGE_DEFAULT, PAGE_MAX = 100, 1000
LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}\Z")
LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}\Z")
_FILTER_TERM = re.compile(r'labels\.([a-z][a-z0-9_-]*)\s*(=|:)\s*("([^"]*)"|[a-z0-9_*-]+)\Z')
_TOP_LEVEL = {"baseModel", "tunedModelDisplayName", "description", "labels", "supervisedTuningSpec"}
_SPEC = {
    "trainingDatasetUri",
    "validationDatasetUri",
    "hyperParameters",
    "exportLastCheckpointOnly",
}
_HYPER = {"epochCount", "learningRateMultiplier", "adapterSize", "learningRate", "batchSize"}


def _number(value: object, path: str, integer: bool = False) -> float:
    """A proto3 JSON number: a JSON number or a numeric string (int64 travels as a string)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(f"Invalid value at '{path}': {json.dumps(value)}.")
    try:
        number = float(value) if not integer else int(str(value))
    except ValueError:
        raise invalid(
            f"Invalid value at '{path}' ({'int64' if integer else 'double'}): {json.dumps(value)}."
        ) from None
    if not math.isfinite(number) or number <= 0:
        raise invalid(f"{path} must be greater than 0, got {json.dumps(value)}.")
    return number


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


def _gs(uri: object, path: str) -> tuple[str, str]:
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


def read_examples(store: Store, uri: str, path: str) -> tuple[int, int]:
    """Validate a supervised-tuning JSONL object; (examples, characters)."""
    bucket, name = _gs(uri, path)
    if store.get_doc(KIND_OBJECT, f"{bucket}/{name}") is None:
        raise invalid(f"{path}: {uri} does not exist or cannot be read.")
    data = store.get_blob(bucket, name) or b""
    count = chars = 0
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{uri} line {number}"
        try:
            row = json.loads(line)
        except ValueError:
            raise invalid(f"{where}: not valid JSON.") from None
        if not isinstance(row, dict):
            raise invalid(f"{where}: each line must be a JSON object.")
        reject_unknown(row, ("contents", "systemInstruction"), where)
        contents = row.get("contents")
        if not isinstance(contents, list) or len(contents) < 2:
            raise invalid(f"{where}: contents must hold a user turn and a model turn.")
        for i, turn in enumerate(contents):
            role = turn.get("role") if isinstance(turn, dict) else None
            expected = "user" if i % 2 == 0 else "model"
            if role != expected:
                raise invalid(f"{where}: contents[{i}].role must be {expected!r}, got {role!r}.")
            parts = turn.get("parts")
            if not isinstance(parts, list) or not parts:
                raise invalid(f"{where}: contents[{i}].parts must be a non-empty list.")
            for part in parts:
                text = part.get("text") if isinstance(part, dict) else None
                if not isinstance(text, str) or not text:
                    raise invalid(f"{where}: contents[{i}].parts[] must carry non-empty text.")
                chars += len(text)
        if contents[-1].get("role") != "model":
            raise invalid(f"{where}: the last turn must be the model's.")
        count += 1
    if count == 0:
        raise invalid(f"{path}: {uri} holds no examples.")
    return count, chars


class VertexDialect:
    """Handlers for the Vertex AI tuning surface over one `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        train_seconds: Callable[[], float],
    ) -> None:
        self.store = store
        self.clock = clock
        self.train_seconds = train_seconds

    def routes(self) -> list[Route]:
        routes: list[Route] = []
        for v in VERSIONS:
            base = f"/{v}/projects/{{project}}/locations/{{location}}"
            routes += [
                Route("POST", f"{base}/tuningJobs", self.create, auth="bearer"),
                Route("GET", f"{base}/tuningJobs", self.list, auth="bearer"),
                Route("GET", f"{base}/tuningJobs/{{job}}", self.get, auth="bearer"),
                Route("POST", f"{base}/tuningJobs/{{job}}:cancel", self.cancel, auth="bearer"),
                Route("GET", f"{base}/models/{{model}}", self.get_model, auth="bearer"),
                Route("DELETE", f"{base}/models/{{model}}", self.delete_model, auth="bearer"),
                Route("GET", f"{base}/endpoints/{{endpoint}}", self.get_endpoint, auth="bearer"),
                Route(
                    "POST",
                    f"{base}/endpoints/{{endpoint}}:undeployModel",
                    self.undeploy_model,
                    auth="bearer",
                ),
                Route(
                    "DELETE", f"{base}/endpoints/{{endpoint}}", self.delete_endpoint, auth="bearer"
                ),
                Route(
                    "GET",
                    f"/{v}/publishers/google/models/{{model}}",
                    self.get_publisher_model,
                    auth="bearer",
                ),
            ]
        return routes

    # -- rendering --------------------------------------------------------------------------

    @staticmethod
    def _job_sim(doc: Mapping[str, Any]) -> training.Job:
        return training.Job(
            start=doc["create_time"],
            train_seconds=doc["train_seconds"],
            steps=doc["steps"],
            steps_per_epoch=doc["steps_per_epoch"],
            seed=int(doc["seed"]),
            fail=doc["fail"],
            cancel_time=doc.get("cancel_time"),
        )

    def _progress(self, doc: Mapping[str, Any], now: float) -> training.Progress:
        return training.progress(self._job_sim(doc), now)

    def _succeeded(self, doc: Mapping[str, Any], now: float) -> bool:
        return self._progress(doc, now).state == "ACTIVE"

    @staticmethod
    def _parent(doc: Mapping[str, Any]) -> str:
        return f"projects/{doc['project']}/locations/{doc['location']}"

    def job_json(self, doc: Mapping[str, Any], now: float) -> dict[str, Any]:
        prog = self._progress(doc, now)
        parent = self._parent(doc)
        state = {
            "CREATING": "JOB_STATE_RUNNING",
            "ACTIVE": "JOB_STATE_SUCCEEDED",
            "FAILED": "JOB_STATE_CANCELLED" if prog.cancelled else "JOB_STATE_FAILED",
        }[prog.state]
        created = training.rfc3339(doc["create_time"])
        out: dict[str, Any] = {
            "name": f"{parent}/tuningJobs/{doc['id']}",
            "tunedModelDisplayName": doc["display_name"],
        }
        if doc["description"]:
            out["description"] = doc["description"]
        out["state"] = state
        out["createTime"] = created
        out["startTime"] = created
        if prog.complete_time is not None:
            out["endTime"] = training.rfc3339(prog.complete_time)
        out["updateTime"] = training.rfc3339(prog.complete_time or doc["create_time"])
        if prog.state == "FAILED":
            code = 1 if prog.cancelled else 13
            out["error"] = {"code": code, "message": "CANCELED" if prog.cancelled else prog.error}
        out["baseModel"] = doc["base_model"]
        spec: dict[str, Any] = {"trainingDatasetUri": doc["training_uri"]}
        if doc.get("validation_uri"):
            spec["validationDatasetUri"] = doc["validation_uri"]
        hyper: dict[str, Any] = {"epochCount": str(doc["hyper"]["epochCount"])}
        hyper["learningRateMultiplier"] = doc["hyper"]["learningRateMultiplier"]
        if "adapterSize" in doc["hyper"]:
            hyper["adapterSize"] = doc["hyper"]["adapterSize"]
        spec["hyperParameters"] = hyper
        out["supervisedTuningSpec"] = spec
        if prog.state == "ACTIVE":
            out["tunedModel"] = {
                "model": f"{parent}/models/{doc['model_id']}@1",
                "endpoint": f"{parent}/endpoints/{doc['endpoint_id']}",
            }
        out["tuningDataStats"] = {
            "supervisedTuningDataStats": {
                "tuningDatasetExampleCount": str(doc["example_count"]),
                "totalTuningCharacterCount": str(doc["chars"]),
                "totalBillableCharacterCount": str(doc["chars"] * doc["hyper"]["epochCount"]),
                "tuningStepCount": str(doc["steps"]),
            }
        }
        if doc["labels"]:
            out["labels"] = dict(doc["labels"])
        return out

    def _job(self, req: Request) -> dict[str, Any]:
        p = req.params
        doc = self.store.get_doc(KIND_JOB, f"{p['project']}/{p['location']}/{p['job']}")
        if doc is None:
            raise not_found(
                f'The TuningJob "projects/{p["project"]}/locations/{p["location"]}/tuningJobs/'
                f'{p["job"]}" does not exist.'
            )
        return doc

    # -- tuningJobs -------------------------------------------------------------------------

    def create(self, req: Request) -> Response:
        p = req.params
        body = req.json()
        reject_unknown(body, _TOP_LEVEL, "tuning_job")
        base = body.get("baseModel")
        if not isinstance(base, str) or not base:
            raise invalid("baseModel is required.")
        if base not in TUNABLE_BASE_MODELS:
            why = "not supported for supervised tuning" if base in OTHER_BASE_MODELS else "unknown"
            raise invalid(
                f"Base model {base} is {why}. Supported: {', '.join(TUNABLE_BASE_MODELS)}."
            )
        display = body.get("tunedModelDisplayName", "")
        if not isinstance(display, str) or len(display) > DISPLAY_NAME_MAX:
            raise invalid(
                f"tunedModelDisplayName must be a string of at most {DISPLAY_NAME_MAX} characters."
            )
        description = body.get("description", "")
        if not isinstance(description, str):
            raise invalid("description must be a string.")
        labels = _labels(body.get("labels"))
        spec = body.get("supervisedTuningSpec")
        if not isinstance(spec, dict):
            raise invalid(
                "supervisedTuningSpec is required (the emulator supports supervised tuning only)."
            )
        reject_unknown(spec, _SPEC, "tuning_job.supervised_tuning_spec")
        training_uri = spec.get("trainingDatasetUri")
        _gs(training_uri, "supervisedTuningSpec.trainingDatasetUri")
        count, chars = read_examples(
            self.store, str(training_uri), "supervisedTuningSpec.trainingDatasetUri"
        )
        validation_uri = spec.get("validationDatasetUri")
        if validation_uri is not None:
            read_examples(
                self.store, str(validation_uri), "supervisedTuningSpec.validationDatasetUri"
            )
        raw_hyper = spec.get("hyperParameters") or {}
        if not isinstance(raw_hyper, dict):
            raise invalid("supervisedTuningSpec.hyperParameters must be an object.")
        reject_unknown(raw_hyper, _HYPER, "tuning_job.supervised_tuning_spec.hyper_parameters")
        for only_open in ("learningRate", "batchSize"):
            if raw_hyper.get(only_open) is not None:
                raise invalid(
                    f"supervisedTuningSpec.hyperParameters.{only_open} is only available for "
                    f"open source models, not {base}."
                )
        hyper: dict[str, Any] = {
            "epochCount": DEFAULT_EPOCH_COUNT,
            "learningRateMultiplier": DEFAULT_LEARNING_RATE_MULTIPLIER,
        }
        path = "supervisedTuningSpec.hyperParameters"
        if raw_hyper.get("epochCount") is not None:
            hyper["epochCount"] = int(_number(raw_hyper["epochCount"], f"{path}.epochCount", True))
        if raw_hyper.get("learningRateMultiplier") is not None:
            hyper["learningRateMultiplier"] = _number(
                raw_hyper["learningRateMultiplier"], f"{path}.learningRateMultiplier"
            )
        if raw_hyper.get("adapterSize") is not None:
            size = raw_hyper["adapterSize"]
            if size not in ADAPTER_SIZES:
                raise invalid(
                    f"Invalid value at '{path}.adapterSize': {json.dumps(size)}; one of "
                    f"{', '.join(ADAPTER_SIZES)}."
                )
            hyper["adapterSize"] = size
        per_epoch = training.steps_per_epoch(count, STEP_BATCH)
        now = self.clock()
        job_id = f"{int(now * 1_000_000)}{secrets.randbelow(1000):03d}"
        doc = {
            "project": p["project"],
            "location": p["location"],
            "id": job_id,
            "display_name": display,
            "description": description,
            "labels": labels,
            "base_model": base,
            "training_uri": training_uri,
            "validation_uri": validation_uri,
            "hyper": hyper,
            "create_time": now,
            "train_seconds": self.train_seconds(),
            "steps": per_epoch * int(hyper["epochCount"]),
            "steps_per_epoch": per_epoch,
            "example_count": count,
            "chars": chars,
            "seed": str(int.from_bytes(secrets.token_bytes(8), "big")),
            "fail": re.search(rf"\b{training.FAIL_WORD}\b", display) is not None,
            "cancel_time": None,
            "model_id": str(secrets.randbelow(10**18) + 10**18),
            "endpoint_id": str(secrets.randbelow(10**18) + 10**18),
            "deployed_model_id": str(secrets.randbelow(10**18) + 10**18),
            "undeployed": False,
            "model_deleted": False,
            "endpoint_deleted": False,
        }
        self.store.insert_doc(KIND_JOB, f"{p['project']}/{p['location']}/{job_id}", doc)
        return Response(200, self.job_json(doc, now))

    def get(self, req: Request) -> Response:
        return Response(200, self.job_json(self._job(req), self.clock()))

    def list(self, req: Request) -> Response:
        p = req.params
        raw_filter = req.arg("filter") or ""
        terms = parse_filter(raw_filter)
        raw_size = req.arg("pageSize")
        try:
            size = int(raw_size) if raw_size else PAGE_DEFAULT
        except ValueError:
            raise invalid(f"Invalid value at 'page_size' (TYPE_INT32): {raw_size!r}.") from None
        if size < 0:
            raise invalid("page_size must not be negative.")
        size = min(size or PAGE_DEFAULT, PAGE_MAX)
        token = req.arg("pageToken")
        before = _decode_token(token, raw_filter) if token else None
        prefix = f"{p['project']}/{p['location']}/"
        docs = sorted(
            (d for _, d in self.store.docs(KIND_JOB, prefix)),
            key=lambda d: str(d["id"]).zfill(24),
            reverse=True,  # newest first
        )
        matching = [
            d
            for d in docs
            if (before is None or str(d["id"]).zfill(24) < before.zfill(24))
            and all((k in d["labels"]) if v is None else d["labels"].get(k) == v for k, v in terms)
        ]
        now = self.clock()
        out: dict[str, Any] = {}
        page = matching[:size]
        if page:
            out["tuningJobs"] = [self.job_json(d, now) for d in page]
        if len(matching) > size:
            out["nextPageToken"] = _encode_token(str(page[-1]["id"]), raw_filter)
        return Response(200, out)

    def cancel(self, req: Request) -> Response:
        doc = self._job(req)
        now = self.clock()
        if self._progress(doc, now).state != "CREATING":
            raise ApiError(
                400,
                f"Cannot cancel tuning job {self._parent(doc)}/tuningJobs/{doc['id']} in state "
                f"{self.job_json(doc, now)['state']}.",
                "FAILED_PRECONDITION",
            )
        key = f"{doc['project']}/{doc['location']}/{doc['id']}"

        def stop(d: dict[str, Any]) -> dict[str, Any]:
            if d.get("cancel_time") is None:
                d["cancel_time"] = now
            return d

        self.store.update_doc(KIND_JOB, key, stop)
        return Response(200, {})

    # -- tuned models and endpoints -----------------------------------------------------------

    def _by(self, req: Request, field: str, value: str) -> dict[str, Any] | None:
        p = req.params
        now = self.clock()
        for _, d in self.store.docs(KIND_JOB, f"{p['project']}/{p['location']}/"):
            if d.get(field) == value and self._succeeded(d, now):
                return d
        return None

    def _model_doc(self, req: Request) -> dict[str, Any]:
        model_id = req.params["model"].split("@", 1)[0]
        doc = self._by(req, "model_id", model_id)
        if doc is None or doc["model_deleted"]:
            raise not_found(
                f'The Model "{self._parent(dict(req.params))}/models/{model_id}" does not exist.'
            )
        return doc

    def _endpoint_doc(self, req: Request) -> dict[str, Any]:
        endpoint_id = req.params["endpoint"]
        doc = self._by(req, "endpoint_id", endpoint_id)
        if doc is None or doc["endpoint_deleted"]:
            raise not_found(
                f'The Endpoint "{self._parent(dict(req.params))}/endpoints/{endpoint_id}" does '
                "not exist."
            )
        return doc

    def _update(self, doc: Mapping[str, Any], **changes: Any) -> None:
        key = f"{doc['project']}/{doc['location']}/{doc['id']}"
        self.store.update_doc(KIND_JOB, key, lambda d: {**d, **changes})

    def _operation(self, doc: Mapping[str, Any], kind: str, response: str) -> dict[str, Any]:
        now = training.rfc3339(self.clock())
        return {
            "name": f"{self._parent(doc)}/operations/{secrets.randbelow(10**18) + 10**18}",
            "metadata": {
                "@type": f"{API_TYPE}.{kind}",
                "genericMetadata": {"createTime": now, "updateTime": now},
            },
            "done": True,
            "response": {"@type": response},
        }

    def get_model(self, req: Request) -> Response:
        doc = self._model_doc(req)
        parent = self._parent(doc)
        end = training.rfc3339(self._progress(doc, self.clock()).complete_time or 0)
        out: dict[str, Any] = {
            "name": f"{parent}/models/{doc['model_id']}",
            "displayName": doc["display_name"] or doc["id"],
            "versionId": "1",
            "versionAliases": ["default"],
            "createTime": end,
            "updateTime": end,
        }
        if not doc["undeployed"] and not doc["endpoint_deleted"]:
            out["deployedModels"] = [
                {
                    "endpoint": f"{parent}/endpoints/{doc['endpoint_id']}",
                    "deployedModelId": doc["deployed_model_id"],
                }
            ]
        if doc["labels"]:
            out["labels"] = dict(doc["labels"])
        return Response(200, out)

    def delete_model(self, req: Request) -> Response:
        doc = self._model_doc(req)
        if not doc["undeployed"] and not doc["endpoint_deleted"]:
            raise ApiError(
                400,
                f'The model "{self._parent(doc)}/models/{doc["model_id"]}" can\'t be deleted '
                f"because it's deployed at the following endpoint(s): "
                f"{self._parent(doc)}/endpoints/{doc['endpoint_id']}. Undeploy it first.",
                "FAILED_PRECONDITION",
            )
        self._update(doc, model_deleted=True)
        return Response(
            200,
            self._operation(
                doc, "DeleteOperationMetadata", "type.googleapis.com/google.protobuf.Empty"
            ),
        )

    def get_endpoint(self, req: Request) -> Response:
        doc = self._endpoint_doc(req)
        parent = self._parent(doc)
        end = training.rfc3339(self._progress(doc, self.clock()).complete_time or 0)
        out: dict[str, Any] = {
            "name": f"{parent}/endpoints/{doc['endpoint_id']}",
            "displayName": doc["display_name"] or doc["id"],
            "createTime": end,
            "updateTime": end,
        }
        if not doc["undeployed"]:
            out["deployedModels"] = [
                {
                    "id": doc["deployed_model_id"],
                    "model": f"{parent}/models/{doc['model_id']}@1",
                    "modelVersionId": "1",
                    "createTime": end,
                }
            ]
            out["trafficSplit"] = {doc["deployed_model_id"]: 100}
        if doc["labels"]:
            out["labels"] = dict(doc["labels"])
        return Response(200, out)

    def undeploy_model(self, req: Request) -> Response:
        doc = self._endpoint_doc(req)
        body = req.json()
        reject_unknown(body, ("deployedModelId", "trafficSplit"), "undeploy_model_request")
        wanted = body.get("deployedModelId")
        if not isinstance(wanted, str) or not wanted:
            raise invalid("deployedModelId is required.")
        if doc["undeployed"] or wanted != doc["deployed_model_id"]:
            raise not_found(
                f"DeployedModel with ID {wanted} does not exist in endpoint "
                f"{self._parent(doc)}/endpoints/{doc['endpoint_id']}."
            )
        self._update(doc, undeployed=True)
        return Response(
            200,
            self._operation(
                doc, "UndeployModelOperationMetadata", f"{API_TYPE}.UndeployModelResponse"
            ),
        )

    def delete_endpoint(self, req: Request) -> Response:
        doc = self._endpoint_doc(req)
        if not doc["undeployed"]:
            raise ApiError(
                400,
                f"Endpoint {self._parent(doc)}/endpoints/{doc['endpoint_id']} has deployed "
                "models; undeploy them before deleting the endpoint.",
                "FAILED_PRECONDITION",
            )
        self._update(doc, endpoint_deleted=True)
        return Response(
            200,
            self._operation(
                doc, "DeleteOperationMetadata", "type.googleapis.com/google.protobuf.Empty"
            ),
        )

    # -- base models ------------------------------------------------------------------------

    def get_publisher_model(self, req: Request) -> Response:
        name = req.params["model"]
        if name not in TUNABLE_BASE_MODELS and name not in OTHER_BASE_MODELS:
            raise not_found(f"Publisher Model `publishers/google/models/{name}` not found.")
        return Response(
            200,
            {
                "name": f"publishers/google/models/{name}",
                "versionId": "default",
                "openSourceCategory": "PROPRIETARY",
                "launchStage": "GA",
                "publisherModelTemplate": f"projects/{{project}}/locations/{{location}}/"
                f"publishers/google/models/{name}",
            },
        )


def _encode_token(last: str, query: str) -> str:
    raw = json.dumps({"last": last, "q": query}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, query: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
        last, q = data["last"], data["q"]
        if not isinstance(last, str) or not isinstance(q, str):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page token {token!r}.") from None
    if q != query:
        raise invalid("The page token was issued for a different filter; parameters must match.")
    return last
