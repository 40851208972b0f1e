"""The manifest format's JSON Schema, as committed in ``schemas/tuning.schema.json``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from gitops_tune.manifest.models import API_VERSION, ManifestDocument

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one manifest document, either kind."""
    schema = TypeAdapter(ManifestDocument).json_schema()
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "gitops-tune manifest",
        "description": (
            f"One document of a gitops-tune manifest ({API_VERSION}): a TunedModel or a "
            "Workspace. Files may hold several documents separated by ---."
        ),
        **schema,
    }


def schema_text() -> str:
    """`json_schema` as committed in ``schemas/tuning.schema.json``: sorted, 2-space indent."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
