"""The JSON the Vertex AI dialect answers: ``TuningJob``, ``Model``, ``Endpoint`` and
long-running ``Operation``, from a stored job document (`wire.KIND_JOB`).

Shapes follow ``google/cloud/aiplatform/v1/{tuning_job,model,endpoint}.proto`` in proto3 JSON
(camelCase, int64 as strings, empty fields left out). A job document also carries the tuned
model and endpoint it produces, with what ``models.patch`` and ``endpoints.patch`` changed
(``model_*`` and ``endpoint_*`` keys) and what was undeployed or deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops_tune.emulator import training
from gitops_tune.emulator.vertex import methods, timeline
from gitops_tune.emulator.vertex.wire import API_TYPE, parent


def _spec_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"trainingDatasetUri": doc["training_uri"]}
    if doc.get("validation_uri"):
        spec["validationDatasetUri"] = doc["validation_uri"]
    hyper: dict[str, Any] = {"epochCount": str(doc["hyper"]["epochCount"])}
    hyper["learningRateMultiplier"] = doc["hyper"]["learningRateMultiplier"]
    if "adapterSize" in doc["hyper"]:
        hyper["adapterSize"] = doc["hyper"]["adapterSize"]
    spec["hyperParameters"] = hyper
    if doc.get("export_last_checkpoint_only"):
        spec["exportLastCheckpointOnly"] = True
    if doc.get("evaluation_config"):
        spec["evaluationConfig"] = doc["evaluation_config"]
    return spec


def model_name(doc: Mapping[str, Any]) -> str:
    return f"{parent(doc)}/models/{doc['model_id']}"


def endpoint_name(doc: Mapping[str, Any]) -> str:
    return f"{parent(doc)}/endpoints/{doc['endpoint_id']}"


def _tuned_model(doc: Mapping[str, Any], st: timeline.JobStatus) -> dict[str, Any]:
    out: dict[str, Any] = {"model": f"{model_name(doc)}@1"}
    if st.has_endpoint:
        out["endpoint"] = endpoint_name(doc)
    checkpoints = doc.get("checkpoints") or []
    if checkpoints and st.has_endpoint:
        out["checkpoints"] = [
            {
                "checkpointId": c["id"],
                "epoch": str(c["epoch"]),
                "step": str(c["step"]),
                **(
                    {"endpoint": f"{parent(doc)}/endpoints/{c['endpoint_id']}"}
                    if c.get("endpoint_id")
                    else {}
                ),
            }
            for c in checkpoints
        ]
    return out


def _times(doc: Mapping[str, Any], st: timeline.JobStatus) -> dict[str, Any]:
    out = {"createTime": training.rfc3339(doc["create_time"])}
    if st.start_time is not None:
        out["startTime"] = training.rfc3339(st.start_time)
    if st.end_time is not None:
        out["endTime"] = training.rfc3339(st.end_time)
    updated = st.end_time or doc.get("cancel_requested") or st.start_time or doc["create_time"]
    out["updateTime"] = training.rfc3339(updated)
    return out


def _optional(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The create request's optional settings, echoed back."""
    out: dict[str, Any] = {}
    if doc["labels"]:
        out["labels"] = dict(doc["labels"])
    if doc.get("encryption_spec"):
        out["encryptionSpec"] = dict(doc["encryption_spec"])
    if doc.get("service_account"):
        out["serviceAccount"] = doc["service_account"]
    return out


def job_json(doc: Mapping[str, Any], now: float) -> dict[str, Any]:
    st = timeline.status(doc, now)
    out: dict[str, Any] = {
        "name": f"{parent(doc)}/tuningJobs/{doc['id']}",
        "tunedModelDisplayName": doc["display_name"],
    }
    if doc["description"]:
        out["description"] = doc["description"]
    out["state"] = st.state
    out |= _times(doc, st)
    if st.error is not None:
        out["error"] = {"code": st.error[0], "message": st.error[1]}
    if doc.get("pre_tuned_model"):
        out["preTunedModel"] = dict(doc["pre_tuned_model"])
    else:
        out["baseModel"] = doc["base_model"]
    key, spec = methods.spec_json(doc, _spec_json(doc))
    out[key] = spec
    if st.start_time is not None:
        out["experiment"] = (
            f"{parent(doc)}/metadataStores/default/contexts/tuning-experiment-{doc['id']}"
        )
    if st.has_model:
        out["tunedModel"] = _tuned_model(doc, st)
    if doc.get("stats"):
        out["tuningDataStats"] = doc["stats"]
    if doc.get("evaluation_runs") and st.state == "JOB_STATE_SUCCEEDED":
        out["evaluateDatasetRuns"] = doc["evaluation_runs"]
    return out | _optional(doc)


def _deployed(doc: Mapping[str, Any]) -> bool:
    return not doc.get("undeployed") and not doc.get("endpoint_deleted")


def model_json(doc: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The tuned ``Model`` (model.proto): its own display name, description and labels (the
    job's labels at first, "to organize TuningJob and generated resources such as Model and
    Endpoint"), and where it is deployed."""
    end = training.rfc3339(timeline.status(doc, now).end_time or doc["create_time"])
    out: dict[str, Any] = {
        "name": model_name(doc),
        "displayName": doc.get("model_display_name", doc["display_name"] or doc["id"]),
    }
    description = doc.get("model_description", doc["description"])
    if description:
        out["description"] = description
    out["versionId"] = "1"
    out["versionAliases"] = ["default"]
    out["createTime"] = end
    out["updateTime"] = (
        training.rfc3339(doc["model_update_time"]) if doc.get("model_update_time") else end
    )
    if timeline.status(doc, now).has_endpoint and _deployed(doc):
        out["deployedModels"] = [
            {"endpoint": endpoint_name(doc), "deployedModelId": doc["deployed_model_id"]}
        ]
    labels = doc.get("model_labels", doc["labels"])
    if labels:
        out["labels"] = dict(labels)
    return out | _checkpoints(doc)


def _checkpoints(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A tuned model version's ``defaultCheckpointId`` and ``checkpoints`` (model.proto)."""
    found = doc.get("checkpoints") or []
    if not found:
        return {}
    return {
        "defaultCheckpointId": timeline.default_checkpoint(doc),
        "checkpoints": [
            {"checkpointId": c["id"], "epoch": str(c["epoch"]), "step": str(c["step"])}
            for c in found
        ],
    }


def endpoint_json(doc: Mapping[str, Any], now: float) -> dict[str, Any]:
    end = training.rfc3339(timeline.status(doc, now).end_time or doc["create_time"])
    out: dict[str, Any] = {
        "name": endpoint_name(doc),
        "displayName": doc.get("endpoint_display_name", doc["display_name"] or doc["id"]),
    }
    description = doc.get("endpoint_description", "")
    if description:
        out["description"] = description
    if not doc.get("undeployed"):
        out["deployedModels"] = [
            {
                "id": doc["deployed_model_id"],
                "model": f"{model_name(doc)}@1",
                "modelVersionId": "1",
                "createTime": end,
            }
        ]
        out["trafficSplit"] = {doc["deployed_model_id"]: 100}
    out["createTime"] = end
    out["updateTime"] = (
        training.rfc3339(doc["endpoint_update_time"]) if doc.get("endpoint_update_time") else end
    )
    labels = doc.get("endpoint_labels", doc["labels"])
    if labels:
        out["labels"] = dict(labels)
    return out


def operation_json(op: Mapping[str, Any], now: float) -> dict[str, Any]:
    """A long-running ``Operation``: not ``done`` until its ``done_time``."""
    out: dict[str, Any] = {
        "name": op["name"],
        "metadata": {
            "@type": f"{API_TYPE}.{op['metadata']}",
            "genericMetadata": {
                "createTime": training.rfc3339(op["create_time"]),
                "updateTime": training.rfc3339(min(now, op["done_time"])),
            },
        },
    }
    if now >= op["done_time"]:
        out["done"] = True
        out["response"] = {"@type": op["response"]}
    return out
