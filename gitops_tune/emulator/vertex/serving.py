"""What a Vertex AI tuning job produces, under ``/{v1beta1|v1}/projects/{project}/locations/
{location}``: the tuned ``models`` (list, get, patch, delete) and the ``endpoints`` they are
deployed to (get, patch, undeploy, delete), the long-running ``operations`` those deletions
and undeploys start, and the ``publishers/google/models`` that can be tuned.

A model exists once its job has produced one (a succeeded job, or a failed one whose endpoint
could not be created); it lives on the job's document (`wire.KIND_JOB`), which records
patches, undeploys and deletions. Deletions and undeploys take effect at once but their
operation is ``done`` only after ``operation_seconds`` (clients must poll it, as on Vertex AI).

``POST /_emulator/vertex {"refuse_model_delete": true}`` (or `Serving.refuse_model_delete`)
makes ``models.delete`` refuse every tuned model, as reported for tuned Gemini models.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitops_tune.emulator.api import (
    ApiError,
    Request,
    Response,
    Route,
    invalid,
    mask_paths,
    not_found,
    proto_json,
    reject_unknown,
)
from gitops_tune.emulator.degrade import Degraded, worse
from gitops_tune.emulator.gemini import answers
from gitops_tune.emulator.paging import Paging
from gitops_tune.emulator.store import Store
from gitops_tune.emulator.vertex import resources, timeline, wire
from gitops_tune.emulator.vertex.wire import API_TYPE, KIND_JOB

EMPTY = "type.googleapis.com/google.protobuf.Empty"
KIND_OPERATION = "vertex-operation"
REFUSED_DELETE = (
    "Deleting tuned Gemini models is not supported. [emulator: refuse_model_delete is on]"
)
MODEL_PAGES = Paging(default=100, maximum=1000, token_key="last")
#: models.patch (UpdateModelRequest); defaultCheckpointId picks the checkpoint served (model.proto)
_MODEL_FIELDS = {"displayName", "description", "labels", "defaultCheckpointId"}
_ENDPOINT_FIELDS = {"displayName", "description", "labels"}


class Serving:
    """Handlers for tuned models, endpoints, operations and publisher models over a `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        publisher_models: Sequence[str] = wire.TUNABLE_BASE_MODELS + wire.OTHER_BASE_MODELS,
        operation_seconds: float = 0.0,
        refuse_model_delete: bool = False,
        degraded: Degraded | None = None,  # models that answer wrongly (`degrade`)
    ) -> None:
        self.degraded = degraded or Degraded()
        self.publisher_models = frozenset(publisher_models)
        self.store = store
        self.clock = clock
        self.operation_seconds = operation_seconds
        self.refuse_model_delete = refuse_model_delete

    def routes(self) -> list[Route]:
        model = f"{wire.LOCATION}/models/{{model}}"
        endpoint = f"{wire.LOCATION}/endpoints/{{endpoint}}"
        return [
            *wire.bearer_routes(
                [
                    ("GET", f"{wire.LOCATION}/models", self.list_models),
                    ("GET", model, self.get_model),
                    ("PATCH", model, self.patch_model),
                    ("DELETE", model, self.delete_model),
                    ("GET", endpoint, self.get_endpoint),
                    ("PATCH", endpoint, self.patch_endpoint),
                    ("POST", f"{endpoint}:undeployModel", self.undeploy_model),
                    ("POST", f"{endpoint}:generateContent", self.generate_content),
                    ("DELETE", endpoint, self.delete_endpoint),
                    ("GET", f"{wire.LOCATION}/operations/{{operation}}", self.get_operation),
                    ("GET", "/publishers/google/models/{model}", self.get_publisher_model),
                ]
            ),
            # Google's generated clients poll operations at the first binding GetOperation
            # publishes, which has no API version: /ui/{name=projects/*/locations/*/operations/*}.
            Route(
                "GET",
                f"/ui{wire.LOCATION}/operations/{{operation}}",
                self.get_operation,
                auth="bearer",
            ),
            Route("POST", "/_emulator/vertex", self.configure, api=False),
        ]

    def configure(self, req: Request) -> Response:
        body = req.json()
        reject_unknown(body, ("refuse_model_delete",), "emulator vertex settings")
        if "refuse_model_delete" in body:
            self.refuse_model_delete = bool(body["refuse_model_delete"])
        return Response(200, {"refuse_model_delete": self.refuse_model_delete})

    # -- documents ---------------------------------------------------------------------------

    def _jobs(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return [
            d for _, d in self.store.docs(KIND_JOB, f"{params['project']}/{params['location']}/")
        ]

    def _has_model(self, doc: Mapping[str, Any]) -> bool:
        return not doc["model_deleted"] and timeline.status(doc, self.clock()).has_model

    def _model_doc(self, req: Request) -> dict[str, Any]:
        model_id = req.params["model"].split("@", 1)[0]
        for doc in self._jobs(req.params):
            if doc["model_id"] == model_id and self._has_model(doc):
                return doc
        raise not_found(
            f'The Model "{wire.parent(dict(req.params))}/models/{model_id}" does not exist.'
        )

    def _endpoint_doc(self, req: Request) -> dict[str, Any]:
        endpoint_id = req.params["endpoint"]
        now = self.clock()
        for doc in self._jobs(req.params):
            if (
                endpoint_id in _endpoint_ids(doc)
                and not doc["endpoint_deleted"]
                and timeline.status(doc, now).has_endpoint
            ):
                return doc
        raise not_found(
            f'The Endpoint "{wire.parent(dict(req.params))}/endpoints/{endpoint_id}" does '
            "not exist."
        )

    def _update(self, doc: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
        updated = self.store.update_doc(KIND_JOB, wire.doc_key(doc), lambda d: {**d, **changes})
        return updated if updated is not None else {**doc, **changes}

    def _operation(self, doc: Mapping[str, Any], metadata: str, response: str) -> Response:
        """Start a long-running operation that is done after `operation_seconds`."""
        now = self.clock()
        op_id = str(secrets.randbelow(10**18) + 10**18)
        op = {
            "name": f"{wire.parent(doc)}/operations/{op_id}",
            "metadata": metadata,
            "response": response,
            "create_time": now,
            "done_time": now + self.operation_seconds,
        }
        self.store.insert_doc(KIND_OPERATION, f"{doc['project']}/{doc['location']}/{op_id}", op)
        return Response(200, resources.operation_json(op, now))

    def get_operation(self, req: Request) -> Response:
        p = req.params
        op = self.store.get_doc(KIND_OPERATION, f"{p['project']}/{p['location']}/{p['operation']}")
        if op is None:
            raise not_found(f"Operation {p['operation']} does not exist.")
        return Response(200, resources.operation_json(op, self.clock()))

    # -- models ------------------------------------------------------------------------------

    def list_models(self, req: Request) -> Response:
        raw_filter = req.arg("filter") or ""
        terms = wire.parse_filter(raw_filter)
        size = MODEL_PAGES.size(req.arg("pageSize"))
        token = req.arg("pageToken")
        after = MODEL_PAGES.decode(token, raw_filter) if token else None
        now = self.clock()
        docs = sorted(
            (d for d in self._jobs(req.params) if self._has_model(d)),
            key=lambda d: str(d["model_id"]),
        )
        matching = []
        for d in docs:
            labels = resources.model_json(d, now).get("labels", {})
            if (after is None or str(d["model_id"]) > after) and all(
                (k in labels) if v is None else labels.get(k) == v for k, v in terms
            ):
                matching.append(d)
        return Response(
            200,
            MODEL_PAGES.page(
                matching,
                size,
                "models",
                lambda d: resources.model_json(d, now),
                lambda d: str(d["model_id"]),
                raw_filter,
            ),
        )

    def get_model(self, req: Request) -> Response:
        return Response(200, resources.model_json(self._model_doc(req), self.clock()))

    def patch_model(self, req: Request) -> Response:
        doc = self._model_doc(req)
        changes = _patch(req, _MODEL_FIELDS, "model")
        wanted = changes.get("defaultCheckpointId")
        if wanted is not None and wanted not in {c["id"] for c in doc.get("checkpoints") or []}:
            raise invalid(f"Checkpoint {wanted!r} does not exist in model {req.params['model']}.")
        updated = self._update(doc, model_update_time=self.clock(), **_stored("model", changes))
        return Response(200, resources.model_json(updated, self.clock()))

    def delete_model(self, req: Request) -> Response:
        doc = self._model_doc(req)
        if not doc["undeployed"] and not doc["endpoint_deleted"] and not doc.get("no_endpoint"):
            parent = wire.parent(doc)
            raise ApiError(
                400,
                f'The model "{parent}/models/{doc["model_id"]}" can\'t be deleted '
                f"because it's deployed at the following endpoint(s): "
                f"{parent}/endpoints/{doc['endpoint_id']}. Undeploy it first.",
                "FAILED_PRECONDITION",
            )
        if self.refuse_model_delete:
            raise ApiError(400, REFUSED_DELETE, "FAILED_PRECONDITION")
        self._update(doc, model_deleted=True)
        return self._operation(doc, "DeleteOperationMetadata", EMPTY)

    # -- endpoints ---------------------------------------------------------------------------

    def get_endpoint(self, req: Request) -> Response:
        return Response(200, resources.endpoint_json(self._endpoint_doc(req), self.clock()))

    def patch_endpoint(self, req: Request) -> Response:
        doc = self._endpoint_doc(req)
        changes = _patch(req, _ENDPOINT_FIELDS, "endpoint")
        updated = self._update(
            doc, endpoint_update_time=self.clock(), **_stored("endpoint", changes)
        )
        return Response(200, resources.endpoint_json(updated, self.clock()))

    def undeploy_model(self, req: Request) -> Response:
        doc = self._endpoint_doc(req)
        body = proto_json(req.json(), wire.MAP_FIELDS)
        reject_unknown(body, ("deployedModelId", "trafficSplit"), "undeploy_model_request")
        wanted = body.get("deployedModelId")
        if not isinstance(wanted, str) or not wanted:
            raise invalid("deployedModelId is required.")
        if doc["undeployed"] or wanted != doc["deployed_model_id"]:
            raise not_found(
                f"DeployedModel with ID {wanted} does not exist in endpoint "
                f"{wire.parent(doc)}/endpoints/{doc['endpoint_id']}."
            )
        self._update(doc, undeployed=True)
        return self._operation(
            doc, "UndeployModelOperationMetadata", f"{API_TYPE}.UndeployModelResponse"
        )

    def generate_content(self, req: Request) -> Response:
        """``endpoints.generateContent``: the deployed tuned model answers from its training
        data (`answers.answer_for`), read from the job's training object."""
        doc = self._endpoint_doc(req)
        name = f"{wire.parent(doc)}/endpoints/{doc['endpoint_id']}"
        if doc["undeployed"]:
            raise ApiError(
                400, f"Endpoint {name} has no deployed model to serve.", "FAILED_PRECONDITION"
            )
        # Vertex AI's tuned models take a system instruction and media parts
        prompt = answers.prompt_text(proto_json(req.json()), text_only=False)
        bucket, blob = wire.gs_uri(doc["training_uri"], "trainingDatasetUri")
        examples = answers.jsonl_examples(self.store.get_blob(bucket, blob) or b"")
        text = answers.answer_for(prompt, examples)
        version = f"{wire.parent(doc)}/models/{doc['model_id']}"
        display = str(doc.get("model_display_name", doc["display_name"]))
        job = f"{wire.parent(doc)}/tuningJobs/{doc['id']}"
        epoch = _answering_epoch(doc, req.params["endpoint"])
        if self.degraded.matches(version, job, display, epoch=epoch):
            text = worse(text, examples)
        return Response(200, answers.generate_content_json(doc["model_id"], prompt, text, version))

    def delete_endpoint(self, req: Request) -> Response:
        doc = self._endpoint_doc(req)
        if not doc["undeployed"]:
            raise ApiError(
                400,
                f"Endpoint {wire.parent(doc)}/endpoints/{doc['endpoint_id']} has deployed "
                "models; undeploy them before deleting the endpoint.",
                "FAILED_PRECONDITION",
            )
        self._update(doc, endpoint_deleted=True)
        return self._operation(doc, "DeleteOperationMetadata", EMPTY)

    # -- base models -------------------------------------------------------------------------

    def get_publisher_model(self, req: Request) -> Response:
        name = req.params["model"]
        if name not in self.publisher_models:
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


def _patch(req: Request, allowed: set[str], what: str) -> dict[str, Any]:
    """The fields ``updateMask`` names, from the body (``models.patch``/``endpoints.patch``:
    the mask is required; fields outside it are ignored). As proto3 JSON parsers do, the
    query parameter, its paths and the body's field names may use either spelling."""
    mask = mask_paths(req.arg("updateMask") or req.arg("update_mask"))
    if not mask:
        raise invalid("update_mask is required.")
    unknown = [m for m in mask if m not in allowed]
    if unknown:
        raise invalid(f"Unsupported update_mask path(s) for {what}: {', '.join(unknown)}.")
    body = proto_json(req.json(), wire.MAP_FIELDS)
    out: dict[str, Any] = {}
    for field in mask:
        value = body.get(field)
        if field == "labels":
            out[field] = wire.labels(value)
        elif value is not None and not isinstance(value, str):
            raise invalid(f"{what}.{field} must be a string.")
        elif field == "displayName" and (not value or len(value) > wire.DISPLAY_NAME_MAX):
            raise invalid(
                f"{what}.displayName must be 1 to {wire.DISPLAY_NAME_MAX} characters long."
            )
        else:
            out[field] = value or ""
    return out


def _stored(prefix: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    keys = {
        "displayName": "display_name",
        "description": "description",
        "labels": "labels",
        "defaultCheckpointId": "default_checkpoint_id",
    }
    return {f"{prefix}_{keys[k]}": v for k, v in changes.items()}


def _endpoint_ids(doc: Mapping[str, Any]) -> set[str]:
    """The job's endpoint and its checkpoints' own endpoints; the emulator keeps one record
    for all of them (undeploying or deleting one undeploys or deletes them all)."""
    return {doc["endpoint_id"]} | {
        str(c["endpoint_id"]) for c in doc.get("checkpoints") or [] if c.get("endpoint_id")
    }


def _answering_epoch(doc: Mapping[str, Any], endpoint_id: str) -> int | None:
    """The epoch of the checkpoint that answers on ``endpoint_id``: the job's endpoint serves
    the default checkpoint; a checkpoint's own endpoint serves that checkpoint."""
    found = doc.get("checkpoints") or []
    wanted = timeline.default_checkpoint(doc) if endpoint_id == doc["endpoint_id"] else None
    for c in found:
        if c["id"] == wanted or (wanted is None and c.get("endpoint_id") == endpoint_id):
            return int(c["epoch"])
    return None
