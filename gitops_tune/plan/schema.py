"""The JSON Schema (draft 2020-12) of the JSON plan (``plan --format json``).

Committed at schemas/plan.schema.json; ``gitops-tune schema --plan`` prints it.
"""

from __future__ import annotations

from typing import Any

from gitops_tune.plan.model import FORMAT_VERSION, REASON_DOCS, Action, Reason


def plan_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``plan --format json``; committed at schemas/."""
    actions = [a.value for a in Action]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gitops-tune.dev/schemas/plan.schema.json",
        "title": "gitops-tune plan",
        "type": "object",
        "additionalProperties": False,
        "required": [
            "format_version",
            "workspace",
            "backend",
            "destroy",
            "targets",
            "observed_digest",
            "desired_digest",
            "changes",
            "summary",
        ],
        "properties": {
            "format_version": {"const": FORMAT_VERSION},
            "workspace": {"type": "string"},
            "backend": {"type": "string"},
            "destroy": {"type": "boolean"},
            "targets": {"type": "array", "items": {"type": "string"}},
            "observed_digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "desired_digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "changes": {"type": "array", "items": _change_schema()},
            "summary": {
                "type": "object",
                "additionalProperties": False,
                "required": actions,
                "properties": {a: {"type": "integer", "minimum": 0} for a in actions},
            },
        },
    }


def _change_schema() -> dict[str, Any]:
    nullable_str = {"type": ["string", "null"]}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "name",
            "action",
            "reasons",
            "reason_codes",
            "remote",
            "remote_state",
            "new",
            "superseded",
            "fingerprint",
            "diff",
            "notes",
        ],
        "properties": {
            "name": {"type": "string"},
            "action": {"enum": [a.value for a in Action]},
            "reasons": {
                "description": "Why, in sentences for the reviewer.",
                "type": "array",
                "items": {"type": "string"},
            },
            "reason_codes": {
                "description": "Why, as codes for machines: each code once, in the order of"
                " the sentences in reasons. A no-op has none.",
                "type": "array",
                "items": {"oneOf": [_code(r) for r in Reason]},
            },
            "remote": nullable_str,
            "remote_state": {"enum": ["TRAINING", "ACTIVE", "FAILED", None]},
            "new": nullable_str,
            "superseded": {"type": "array", "items": {"type": "string"}},
            "fingerprint": nullable_str,
            "diff": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["path", "before", "after"],
                    "properties": {"path": {"type": "string"}, "before": {}, "after": {}},
                },
            },
            "notes": {"type": "array", "items": {"type": "string"}},
        },
    }


def _code(reason: Reason) -> dict[str, Any]:
    return {"const": reason.value, "description": REASON_DOCS[reason]}
