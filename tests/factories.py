"""Plain-data factories for planner and renderer tests."""

from __future__ import annotations

from typing import Any

from gitops_tune.backends import Hyperparameters
from gitops_tune.dataset import Example
from gitops_tune.desired import DesiredModel
from gitops_tune.errors import Location
from gitops_tune.plan import Plan, PlanOptions, plan, tuned_model_id
from gitops_tune.providers.base import Owner, RemoteModel, State

WS = "demo"
HP = {"epochCount": 5, "batchSize": 4, "learningRate": 0.001}


def desired(name: str = "m", fp: str = "a" * 64, **kw: Any) -> DesiredModel:
    fields: dict[str, Any] = {
        "name": name,
        "display_name": name,
        "description": "",
        "base_model": "models/gemini-1.5-flash-001-tuning",
        "preamble": "",
        "task": "other",
        "hyperparameters": Hyperparameters.from_fields(HP),
        "fingerprint": fp,
        "example_count": 20,
        "labels": {},
        "prevent_destroy": False,
        "location": Location("m.yaml", 4, 9),
        "examples": lambda: iter([Example("1", "2")]),
    }
    fields.update(kw)
    fields["hyperparameters"] = _typed(fields["hyperparameters"])
    return DesiredModel(**fields)


def remote(
    name: str = "m",
    fp: str = "a" * 64,
    state: State = State.ACTIVE,
    model_id: str | None = None,
    created: str = "2026-01-01T00:00:00Z",
    workspace: str = WS,
    prevent_destroy: bool = False,
    **kw: Any,
) -> RemoteModel:
    fields: dict[str, Any] = {
        "id": "tunedModels/" + (model_id or tuned_model_id(workspace, name, fp)),
        "display_name": name,
        "description": "",
        "owner": Owner(workspace, name, fp, prevent_destroy),
        "state": state,
        "base_model": "models/gemini-1.5-flash-001-tuning",
        "hyperparameters": Hyperparameters.from_fields(HP),
        "create_time": created,
    }
    fields.update(kw)
    fields["hyperparameters"] = _typed(fields["hyperparameters"])
    return RemoteModel(**fields)


def _typed(hp: Any) -> Hyperparameters:
    """Tests spell hyperparameters as the manifest and the REST API do: camelCase fields."""
    return hp if isinstance(hp, Hyperparameters) else Hyperparameters.from_fields(hp)


def run(
    d: list[DesiredModel], o: list[RemoteModel], *, destroy: bool = False, targets: Any = ()
) -> Plan:
    return plan(d, o, PlanOptions(WS, destroy=destroy, targets=frozenset(targets)), "local")
