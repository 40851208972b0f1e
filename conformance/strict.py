"""Strict parsing of recorded JSON bodies into Google's official messages.

Protobuf-defined APIs (the Gemini API, Vertex AI) go through ``json_format.ParseDict`` with
``ignore_unknown_fields=False``: proto3 JSON rules, and a field the message lacks is an error,
also inside ``google.protobuf.Any`` (an Operation's metadata and response). Cloud Storage is
defined by its discovery document; `check_schema` applies the same rule to its schemas.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, message_factory

from conformance.upstream import Binding, discovery_document


def request_class(binding: Binding) -> Any:
    """The message a request's JSON body is: the request itself (``body: "*"``) or one of its
    fields (``body: "tuned_model"``)."""
    if binding.body in (None, "*"):
        return binding.request
    field = binding.request.DESCRIPTOR.fields_by_name[binding.body]
    return message_factory.GetMessageClass(field.message_type)


def problem(
    binding: Binding, body: dict[str, Any] | None, *, response: bool, media: bool = False
) -> str | None:
    """Why ``body`` is not a valid JSON form of the binding's request or response message,
    or None when it parses strictly. ``media``: the request body is an upload's data."""
    if binding.api.startswith("storage"):
        if media and not response:
            return None
        schema = binding.response if response else binding.request
        if schema is None or body is None:
            return None  # media, or no body
        return check_schema(schema, body)
    cls = binding.response if response else request_class(binding)
    if cls is None or (not response and binding.body is None):
        return None if not body else f"expected no body, got {sorted(body)}"
    try:
        json_format.ParseDict(body or {}, cls(), ignore_unknown_fields=False)
    except json_format.ParseError as e:
        return str(e).splitlines()[0]
    return None


def check_schema(name: str, value: Any, path: str = "") -> str | None:
    """Check ``value`` against the discovery schema ``name``: unknown keys and wrong JSON types
    are problems (int64 travels as a string)."""
    return _check(discovery_document()["schemas"][name], value, path or name)


def _check(schema: dict[str, Any], value: Any, path: str) -> str | None:
    if "$ref" in schema:
        return _check(discovery_document()["schemas"][schema["$ref"]], value, path)
    kind = schema.get("type")
    if kind == "object":
        return _check_object(schema, value, path)
    if kind == "array":
        if not isinstance(value, list):
            return f"{path}: expected a list"
        for i, item in enumerate(value):
            found = _check(schema.get("items", {}), item, f"{path}[{i}]")
            if found:
                return found
        return None
    expected = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}.get(
        str(kind)
    )
    if expected is not None and not isinstance(value, expected):
        return f"{path}: expected {kind}, got {type(value).__name__}"
    return None


def _check_object(schema: dict[str, Any], value: Any, path: str) -> str | None:
    if not isinstance(value, dict):
        return f"{path}: expected an object"
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        sub = properties.get(key) if properties else None
        if sub is None and extra is not None:
            sub = extra
        if sub is None:
            return f"{path}: unknown field {key!r}"
        found = _check(sub, item, f"{path}.{key}")
        if found:
            return found
    return None
