"""The limits table records what Google documents, and says where; nothing guessed."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from gitops_tune.backends import APIS


def _raw() -> dict[str, Any]:
    text = resources.files("gitops_tune.dataset").joinpath("tuning_limits.yaml").read_text()
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def test_every_base_model_says_google_documents_no_default_adapter_size() -> None:
    """Were a per-model default documented, the planner would have to fill it in on both
    sides of its comparison (a server-filled value equal to it is no change): this test
    fails first, so that the value and the planner change together."""
    doc = _raw()
    for name, model in doc["models"].items():
        entry = model["default_adapter_size"]
        assert entry["value"] is None, name
        assert entry["source"] in doc["sources"] and "not found" in entry["note"], name


def test_the_vertex_record_names_this_table() -> None:
    assert any(api.limits_table == "tuning_limits" for api in APIS.values())
