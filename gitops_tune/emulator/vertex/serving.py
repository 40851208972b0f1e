"""What a Vertex AI tuning job produces, under ``/{v1beta1|v1}/projects/{project}/locations/
{location}``: the tuned ``models`` and the ``endpoints`` they are deployed to (get, undeploy,
delete), and the ``publishers/google/models`` that can be tuned.

A model and its endpoint exist once their job has succeeded; they live on the job's document
(`wire.KIND_JOB`), which records undeploys and deletions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from gitops_tune.emulator.store import Store
from gitops_tune.emulator.vertex import wire
from gitops_tune.emulator.vertex.wire import API_TYPE, KIND_JOB

EMPTY = "type.googleapis.com/google.protobuf.Empty"


class Serving:
    """Handlers for tuned models, endpoints and publisher models over one `Store`."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        publisher_models: Sequence[str] = wire.TUNABLE_BASE_MODELS + wire.OTHER_BASE_MODELS,
    ) -> None:
        self.publisher_models = frozenset(publisher_models)
        self.store = store
        self.clock = clock

    def routes(self) -> list[Route]:
        model = f"{wire.LOCATION}/models/{{model}}"
        endpoint = f"{wire.LOCATION}/endpoints/{{endpoint}}"
        return wire.bearer_routes(
            [
                ("GET", model, self.get_model),
                ("DELETE", model, self.delete_model),
                ("GET", endpoint, self.get_endpoint),
                ("POST", f"{endpoint}:undeployModel", self.undeploy_model),
                ("DELETE", endpoint, self.delete_endpoint),
                ("GET", "/publishers/google/models/{model}", self.get_publisher_model),
            ]
        )

    # -- documents ---------------------------------------------------------------------------

    def _by(self, req: Request, field: str, value: str) -> dict[str, Any] | None:
        """The succeeded job whose ``field`` is ``value``, in the request's location."""
        p = req.params
        now = self.clock()
        for _, d in self.store.docs(KIND_JOB, f"{p['project']}/{p['location']}/"):
            if d.get(field) == value and wire.progress(d, now).state == "ACTIVE":
                return d
        return None

    def _model_doc(self, req: Request) -> dict[str, Any]:
        model_id = req.params["model"].split("@", 1)[0]
        doc = self._by(req, "model_id", model_id)
        if doc is None or doc["model_deleted"]:
            raise not_found(
                f'The Model "{wire.parent(dict(req.params))}/models/{model_id}" does not exist.'
            )
        return doc

    def _endpoint_doc(self, req: Request) -> dict[str, Any]:
        endpoint_id = req.params["endpoint"]
        doc = self._by(req, "endpoint_id", endpoint_id)
        if doc is None or doc["endpoint_deleted"]:
            raise not_found(
                f'The Endpoint "{wire.parent(dict(req.params))}/endpoints/{endpoint_id}" does '
                "not exist."
            )
        return doc

    def _update(self, doc: Mapping[str, Any], **changes: Any) -> None:
        self.store.update_doc(KIND_JOB, wire.doc_key(doc), lambda d: {**d, **changes})

    def _done(self, doc: Mapping[str, Any], kind: str, response: str) -> Response:
        return Response(200, wire.operation_json(doc, kind, response, self.clock()))

    def _end_time(self, doc: Mapping[str, Any]) -> str:
        return training.rfc3339(wire.progress(doc, self.clock()).complete_time or 0)

    # -- models ------------------------------------------------------------------------------

    def get_model(self, req: Request) -> Response:
        doc = self._model_doc(req)
        return Response(200, _model_json(doc, self._end_time(doc)))

    def delete_model(self, req: Request) -> Response:
        doc = self._model_doc(req)
        if not doc["undeployed"] and not doc["endpoint_deleted"]:
            parent = wire.parent(doc)
            raise ApiError(
                400,
                f'The model "{parent}/models/{doc["model_id"]}" can\'t be deleted '
                f"because it's deployed at the following endpoint(s): "
                f"{parent}/endpoints/{doc['endpoint_id']}. Undeploy it first.",
                "FAILED_PRECONDITION",
            )
        self._update(doc, model_deleted=True)
        return self._done(doc, "DeleteOperationMetadata", EMPTY)

    # -- endpoints ---------------------------------------------------------------------------

    def get_endpoint(self, req: Request) -> Response:
        doc = self._endpoint_doc(req)
        return Response(200, _endpoint_json(doc, self._end_time(doc)))

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
                f"{wire.parent(doc)}/endpoints/{doc['endpoint_id']}."
            )
        self._update(doc, undeployed=True)
        return self._done(
            doc, "UndeployModelOperationMetadata", f"{API_TYPE}.UndeployModelResponse"
        )

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
        return self._done(doc, "DeleteOperationMetadata", EMPTY)

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


def _model_json(doc: Mapping[str, Any], end: str) -> dict[str, Any]:
    parent = wire.parent(doc)
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
    return out


def _endpoint_json(doc: Mapping[str, Any], end: str) -> dict[str, Any]:
    parent = wire.parent(doc)
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
    return out
