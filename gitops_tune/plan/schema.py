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
            "review",
            "migration",
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
            "review": {"oneOf": [{"type": "null"}, _review_schema()]},
            "migration": {"oneOf": [{"type": "null"}, _migration_schema()]},
        },
    }


def _migration_schema() -> dict[str, Any]:
    return _object(
        {
            "source": {"type": "string", "description": "Where the facts are now."},
            "models": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The models whose facts apply writes onto their resources.",
            },
        },
        "Facts an earlier version kept outside the resources (the Vertex AI backend's"
        " gs://{stagingBucket}/gitops-tune/jobs/ index): apply writes them onto the"
        " resources first; the source is then no longer read.",
    )


def _retirement_schema() -> dict[str, Any]:
    steps = {"type": "array", "items": {"type": "string"}}
    return _object(
        {
            "model": {"type": "string"},
            "steps": {**steps, "description": "What apply does to retire it, in order."},
            "if_refused": {
                **steps,
                "description": "What apply does instead when the backend refuses the delete.",
            },
            "refused_before": {
                "type": ["string", "null"],
                "description": "The earlier refusal on record that makes one expected; null:"
                " none known.",
            },
        },
        "A model the change deletes, now or once its replacement is ACTIVE, where that is"
        " more than one delete call.",
    )


def _object(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        out["description"] = description
    return out


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer", "minimum": 0}
_PAIR = {
    "oneOf": [{"type": "null"}, {"type": "array", "items": _STR, "minItems": 2, "maxItems": 2}]
}


def _dataset_schema() -> dict[str, Any]:
    sample = {
        "type": "object",
        "additionalProperties": False,
        "required": ["text_input", "output"],
        "properties": {"text_input": _STR, "output": _STR, "before": _STR},
    }
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    dataset = _object(
        {
            "before": _INT,
            "after": _INT,
            "added": _INT,
            "removed": _INT,
            "changed": _INT,
            "samples": _object(
                {k: {"type": "array", "items": sample} for k in ("added", "removed", "changed")}
            ),
            "labels": {
                "oneOf": [
                    {"type": "null"},
                    _object(
                        {
                            "before": {"oneOf": [{"type": "null"}, counts]},
                            "after": {"oneOf": [{"type": "null"}, counts]},
                        }
                    ),
                ]
            },
        },
        "Examples keyed by input (without the preamble): changed = same input, another output.",
    )
    return dataset


def _base_schema() -> dict[str, Any]:
    return _object(
        {
            "status": {"enum": ["new", "changed", "unchanged", "removed"]},
            "dataset": {"oneOf": [{"type": "null"}, _dataset_schema()]},
            "moved": _PAIR,
            "manifest": _PAIR,
            "preamble": _PAIR,
            "hyperparameters": {
                "type": "array",
                "items": _object({"path": _STR, "before": {}, "after": {}}),
            },
            "base_model": _PAIR,
            "problem": _NSTR,
        },
        "The model against its manifests and data at the git REF of --base.",
    )


def _model_schema() -> dict[str, Any]:
    finding = _object(
        {
            "rule": _STR,
            "severity": {"enum": ["error", "warning"]},
            "file": _STR,
            "line": {"type": ["integer", "null"]},
            "message": _STR,
        },
        "A data-quality finding; docs/data-quality.md describes each rule.",
    )
    cost = _object(
        {
            "training_tokens": _INT,
            "estimated": {"type": "boolean"},
            "epochs": _INT,
            "usd": {"type": ["number", "null"]},
            "usd_per_million_tokens": {"type": ["number", "null"]},
            "price_source": _NSTR,
            "evaluation_tokens": _INT,
            "evaluation_calls": _INT,
        },
        "Training tokens (examples x epochs) and their price;"
        " estimated: about 4 characters a token. evaluation_tokens: the inference tokens"
        " apply's evaluation spends (each held-out input and expected output, estimated,"
        " times evaluation_calls / examples passes), not priced.",
    )
    return _object(
        {
            "name": _STR,
            "findings": {"type": "array", "items": finding},
            "silenced": {"type": "array", "items": _object({"rule": _STR, "reason": _STR})},
            "cost": {"oneOf": [{"type": "null"}, cost]},
            "base": {"oneOf": [{"type": "null"}, _base_schema()]},
        }
    )


def _review_schema() -> dict[str, Any]:
    """What the review found: per model, its change against --base, findings and cost."""
    return _object(
        {
            "base": _NSTR,
            "base_commit": _NSTR,
            "models": {"type": "array", "items": _model_schema()},
            "total": _object(
                {
                    "training_tokens": _INT,
                    "usd": {"type": ["number", "null"]},
                    "evaluation_tokens": _INT,
                }
            ),
        },
        "Pull-request review: models that train, and with --base every model that changed.",
    )


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
            "retirements",
            "depends_on",
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
            "retirements": {"type": "array", "items": _retirement_schema()},
            "depends_on": {
                "description": "The models this one continues from (spec.from.model): apply"
                " trains them first, and destroys this one first.",
                "type": "array",
                "items": {"type": "string"},
            },
        },
    }


def _code(reason: Reason) -> dict[str, Any]:
    return {"const": reason.value, "description": REASON_DOCS[reason]}
