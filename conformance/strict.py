"""Strict parsing of recorded JSON bodies into Google's official messages.

Protobuf-defined APIs (the Gemini API, Vertex AI) go through ``json_format.ParseDict`` with
``ignore_unknown_fields=False``: proto3 JSON rules, and a field the message lacks is an error,
also inside ``google.protobuf.Any`` (an Operation's metadata and response). Cloud Storage is
defined by its discovery document; `check_schema` applies the same rule to its schemas.

Vertex AI's REST surface moves ahead of the protos a pinned google-cloud-aiplatform ships:
2.7's ``TuningJob`` has no ``preferenceOptimizationSpec`` or ``reinforcementTuningSpec``
(google-genai 3.6 sends them), while Vertex AI's own v1beta1 discovery document (shipped in
google-api-python-client) has them. A field a Vertex AI message lacks is therefore checked,
just as strictly, against that message's schema in the discovery document of the same API
version (`discovery_split`); a field neither knows is still an error.
"""

from __future__ import annotations

import re
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
    if binding.api.startswith("aiplatform") and body:
        version = binding.api.split(" ", 1)[1]
        body, found = discovery_split(cls.DESCRIPTOR, body, version)
        if found:
            return found
    try:
        json_format.ParseDict(body or {}, cls(), ignore_unknown_fields=False)
    except json_format.ParseError as e:
        return str(e).splitlines()[0]
    return None


def discovery_split(descriptor: Any, body: Any, version: str) -> tuple[Any, str | None]:
    """(``body`` without the fields its Vertex AI message lacks, the first problem of those
    fields against the message's schema in ``aiplatform.<version>.json``). Walks nested
    messages; maps and ``google.protobuf`` types are left to ``ParseDict``."""
    if not isinstance(body, dict):
        return body, None
    doc = discovery_document(f"aiplatform.{version}.json")
    name = f"GoogleCloudAiplatform{version.capitalize()}{descriptor.name}"
    properties = doc["schemas"].get(name, {}).get("properties", {})
    out: dict[str, Any] = {}
    for key, value in body.items():
        field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(key)
        if field is None and key in properties:
            found = _check(properties[key], value, f"{name}.{key}", doc, proto3=True)
            if found:
                return out, found
            continue
        out[key], found = _nested(field, value, version)
        if found:
            return out, found
    return out, None


def _nested(field: Any, value: Any, version: str) -> tuple[Any, str | None]:
    message = field.message_type if field is not None else None
    if (
        message is None
        or message.GetOptions().map_entry
        or message.full_name.startswith("google.protobuf")
    ):
        return value, None
    if isinstance(value, list):
        pairs = [discovery_split(message, v, version) for v in value]
        return [p[0] for p in pairs], next((p[1] for p in pairs if p[1]), None)
    return discovery_split(message, value, version)


def check_schema(name: str, value: Any, path: str = "") -> str | None:
    """Check ``value`` against the discovery schema ``name``: unknown keys and wrong JSON types
    are problems (int64 travels as a string)."""
    return _check(discovery_document()["schemas"][name], value, path or name)


def _check(
    schema: dict[str, Any],
    value: Any,
    path: str,
    doc: dict[str, Any] | None = None,
    *,
    proto3: bool = False,
) -> str | None:
    """``proto3``: the schema describes a protobuf message, whose JSON parsers also take the
    original (snake_case) field name and a number for an int64 (proto3 JSON mapping)."""
    doc = doc or discovery_document()
    if "$ref" in schema:
        return _check(doc["schemas"][schema["$ref"]], value, path, doc, proto3=proto3)
    kind = schema.get("type")
    if kind == "object":
        return _check_object(schema, value, path, doc, proto3)
    if kind == "array":
        if not isinstance(value, list):
            return f"{path}: expected a list"
        for i, item in enumerate(value):
            found = _check(schema.get("items", {}), item, f"{path}[{i}]", doc, proto3=proto3)
            if found:
                return found
        return None
    expected: Any = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}.get(
        str(kind)
    )
    if proto3 and schema.get("format") in ("int64", "uint64"):
        expected = (str, int)
    if expected is not None and not isinstance(value, expected):
        return f"{path}: expected {kind}, got {type(value).__name__}"
    return None


def _check_object(
    schema: dict[str, Any], value: Any, path: str, doc: dict[str, Any], proto3: bool
) -> str | None:
    if not isinstance(value, dict):
        return f"{path}: expected an object"
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        sub = properties.get(key) if properties else None
        if sub is None and proto3 and properties:
            sub = properties.get(re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), key))
        if sub is None and extra is not None:
            sub = extra
        if sub is None:
            return f"{path}: unknown field {key!r}"
        found = _check(sub, item, f"{path}.{key}", doc, proto3=proto3)
        if found:
            return found
    return None
