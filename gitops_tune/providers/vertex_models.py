"""Tuned Vertex AI ``Model``s and their ``Endpoint``s, through the SDK's HTTP layer (google-genai
has no methods for them): list, get, patch (``models.patch`` / ``endpoints.patch`` with an
``updateMask``: displayName, description, labels), undeploy and delete.

Deletions and undeploys start long-running operations (model_service.proto ``DeleteModel``,
endpoint_service.proto ``DeleteEndpoint``/``UndeployModel``); each is followed to ``done``.
"A model cannot be deleted if any Endpoint resource has a DeployedModel based on the model"
(``DeleteModel``), so a model is undeployed first; and Vertex AI may refuse to delete a tuned
Gemini model at all, which `retire` answers by labelling it retired instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

from gitops_tune.providers.answers import or_none, paged
from gitops_tune.providers.base import ProviderError, TransientError
from gitops_tune.providers.sdk_genai import Genai
from gitops_tune.providers.vertex_jobs import (
    L_REFUSED,
    L_RETIRED,
    L_UPDATED,
    L_WORKSPACE,
    TunedModelInfo,
    now_label,
)

#: Answers to ``models.delete`` that mean "this model will not be deleted" (rather than "try
#: again"): FAILED_PRECONDITION, PERMISSION_DENIED, ABORTED/conflict.
REFUSED = frozenset({400, 403, 409})
OPERATION_TIMEOUT_S = 600.0


class Models:
    def __init__(self, sdk: Genai, page_size: int, poll_s: float) -> None:
        self.sdk = sdk
        self.page_size = page_size
        self.poll_s = poll_s

    def list(self, workspace: str) -> dict[str, TunedModelInfo]:
        """The workspace's tuned models by name: one paged ``models.list`` filtered on the
        workspace label, and checked again here (the filter is not trusted alone)."""
        query = f"labels.{L_WORKSPACE}={workspace}"

        def fetch(token: str) -> tuple[list[TunedModelInfo], str]:
            path = f"models?filter={quote(query)}&pageSize={self.page_size}"
            if token:
                path += f"&pageToken={quote(token)}"
            doc: Mapping[str, Any] = self.sdk.request("get", path)
            items = [TunedModelInfo.from_json(m) for m in doc.get("models", [])]
            return items, str(doc.get("nextPageToken", ""))

        found: Iterator[TunedModelInfo] = paged(fetch)
        return {m.name: m for m in found if m.labels.get(L_WORKSPACE) == workspace}

    def get(self, name: str) -> TunedModelInfo | None:
        doc = or_none(partial(self.sdk.request, "get", name.split("@", 1)[0]))
        return None if doc is None else TunedModelInfo.from_json(doc)

    def patch(
        self, name: str, fields: Mapping[str, Any], version: bool = False
    ) -> Mapping[str, Any]:
        """``PATCH`` a Model or an Endpoint: the given fields, named in ``updateMask``;
        ``version``: the Model version ``name`` names (``models/M@V``), not the Model."""
        mask = ",".join(sorted(fields))
        target = name if version else name.split("@", 1)[0]
        answer: Mapping[str, Any] = self.sdk.request(
            "patch", f"{target}?updateMask={quote(mask)}", dict(fields)
        )
        return answer

    def retire(self, name: str, endpoints: set[str]) -> bool:
        """Undeploy the model from ``endpoints`` and delete them, then delete the model. When
        Vertex AI refuses that last step, label the model retired instead, with the refusal
        and its time (so later plans can say a refusal is expected): False then."""
        for endpoint in sorted(e for e in endpoints if e):
            self.delete_endpoint(endpoint)
        model = self.get(name)
        if model is None:
            return True
        try:
            self.operation("delete", model.name)
        except ProviderError as e:
            if e.status not in REFUSED or isinstance(e, TransientError):
                raise
            refused = {L_RETIRED: "true", L_REFUSED: str(e.status or "refused")}
            self.patch(model.name, {"labels": {**model.labels, **refused, L_UPDATED: now_label()}})
            return False
        return True

    def delete_endpoint(self, endpoint: str) -> None:
        doc = or_none(partial(self.sdk.request, "get", endpoint))
        if doc is None:
            return
        for deployed in doc.get("deployedModels", []):
            body = {"deployedModelId": str(deployed["id"])}
            or_none(partial(self.operation, "post", f"{endpoint}:undeployModel", body))
        or_none(partial(self.operation, "delete", endpoint))

    def operation(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        """A request that starts a long-running operation, followed to its end; the
        operation's error becomes a ProviderError (with its HTTP-like code when it has one)."""
        op: Mapping[str, Any] = self.sdk.request(method, path, body)
        deadline = time.monotonic() + OPERATION_TIMEOUT_S
        while not op.get("done"):
            if time.monotonic() > deadline:
                raise TransientError(f"{op.get('name')}: still running")
            time.sleep(self.poll_s)
            op = self.sdk.request("get", str(op["name"]))
        error = op.get("error")
        if error:
            code = {9: 400, 7: 403, 10: 409}.get(int(error.get("code", 0) or 0))
            raise ProviderError(f"{op.get('name')}: {error.get('message', error)}", code)
