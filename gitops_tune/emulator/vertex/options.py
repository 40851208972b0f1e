"""What a tuning job may carry beyond its data and hyperparameters (tuning_job.proto):
``preTunedModel`` (continuous tuning), ``serviceAccount`` and ``encryptionSpec`` (CMEK).
Field names arrive in camelCase: `wire.new_job` reads the body with `api.proto_json` first
(google-genai 3.6 sends these two messages' fields under their snake_case proto names)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gitops_tune.emulator.api import invalid, reject_unknown

_KMS_KEY = re.compile(r"projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+\Z")
_SERVICE_ACCOUNT = re.compile(r"[^@\s]+@[^@\s]+\Z")


def pre_tuned(raw: object) -> dict[str, str]:
    """``preTunedModel`` (tuning_job.proto ``PreTunedModel``): the tuned Model to start from
    and, optionally, which of its checkpoints."""
    if not isinstance(raw, dict):
        raise invalid("preTunedModel must be an object.")
    reject_unknown(raw, ("tunedModelName", "checkpointId"), "tuning_job.pre_tuned_model")
    name = raw.get("tunedModelName")
    if not isinstance(name, str) or not re.match(r"projects/[^/]+/locations/[^/]+/models/", name):
        raise invalid("preTunedModel.tunedModelName must be projects/P/locations/L/models/M.")
    out = {"tunedModelName": name}
    if raw.get("checkpointId") is not None:
        out["checkpointId"] = str(raw["checkpointId"])
    return out


def identity(body: Mapping[str, Any]) -> tuple[str, dict[str, str] | None]:
    """``serviceAccount`` and ``encryptionSpec`` (``kmsKeyName``), checked."""
    account = body.get("serviceAccount", "")
    if not isinstance(account, str) or (account and not _SERVICE_ACCOUNT.match(account)):
        raise invalid(f"serviceAccount {account!r} is not a service account email.")
    spec = body.get("encryptionSpec")
    if spec is None:
        return account, None
    if not isinstance(spec, dict):
        raise invalid("encryptionSpec must be an object.")
    reject_unknown(spec, ("kmsKeyName",), "tuning_job.encryption_spec")
    key = spec.get("kmsKeyName")
    if not isinstance(key, str) or not _KMS_KEY.match(key):
        raise invalid(
            "encryptionSpec.kmsKeyName must be projects/P/locations/L/keyRings/R/cryptoKeys/K."
        )
    return account, {"kmsKeyName": key}
