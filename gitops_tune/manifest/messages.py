"""Pydantic validation errors rewritten as one friendly `Diagnostic` each."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, Union

from pydantic import BaseModel, ValidationError

from gitops_tune.errors import Diagnostic
from gitops_tune.hints import suggest
from gitops_tune.manifest._base import NAME_RULE
from gitops_tune.manifest._yaml import Document, dotted


def unknown_field(key: str, allowed: Sequence[str]) -> str:
    hint = suggest(key, allowed)
    if hint:
        return f"unknown field {key!r}; did you mean {hint!r}?"
    if allowed:
        return f"unknown field {key!r} (expected one of: {', '.join(allowed)})"
    return f"unknown field {key!r}"


def describe(value: object) -> str:
    """A value as the user wrote it, with its YAML type: ``string 'x'``, ``integer 5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _shown(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return str(value)


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return [annotation]


def _field_at(model: type[BaseModel], path: Sequence[str | int]) -> tuple[Any, bool]:
    """(the annotation at ``path`` or the model itself when path is empty, found?)."""
    current: Any = model
    for part in path:
        models = [a for a in _unwrap(current) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not models or not isinstance(part, str) or part not in models[0].model_fields:
            return None, False
        current = models[0].model_fields[part].annotation
    return current, True


def allowed_fields(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    annotation, found = _field_at(model, path)
    if not found:
        return []
    for a in _unwrap(annotation):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return list(a.model_fields)
    return []


def literal_values(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    annotation, found = _field_at(model, path)
    if not found:
        return []
    values: list[str] = []
    for a in _unwrap(annotation):
        if typing.get_origin(a) is Literal:
            values.extend(str(v) for v in typing.get_args(a))
    return values


_TYPES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


_BOUNDS = {  # pydantic error type -> (the words, the ctx key of the bound)
    "greater_than": ("greater than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}


class _Failure(NamedTuple):
    """One pydantic error, as the message functions below read it."""

    value: Any  # the input
    ctx: dict[str, Any]
    model: type[BaseModel]
    loc: tuple[str | int, ...]


def _too_long(f: _Failure) -> str:
    length = len(f.value) if isinstance(f.value, str) else "?"
    return f"must be at most {f.ctx.get('max_length')} characters (got {length})"


def _too_short(f: _Failure) -> str:
    if f.ctx.get("min_length") == 1:
        return "must not be empty"
    return f"must be at least {f.ctx.get('min_length')} characters"


def _pattern(f: _Failure) -> str:
    if f.loc and f.loc[-1] == "name":
        return f"must be {NAME_RULE} (got {_shown(f.value)})"
    return f"must match {f.ctx.get('pattern')} (got {_shown(f.value)})"


def _literal(f: _Failure) -> str:
    allowed = literal_values(f.model, f.loc)
    text = f"must be one of: {', '.join(allowed)} (got {describe(f.value)})"
    hint = suggest(f.value, allowed) if isinstance(f.value, str) else None
    if hint:
        text += f"; did you mean {hint!r}?"
    return text


_MESSAGES: dict[str, Callable[[_Failure], str]] = {
    "missing": lambda f: "required field is missing",
    "finite_number": lambda f: f"must be a finite number (got {_shown(f.value)})",
    "string_too_long": _too_long,
    "string_too_short": _too_short,
    "string_pattern_mismatch": _pattern,
    "literal_error": _literal,
}


def _message(error: Any, model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    kind: str = error["type"]
    value = error.get("input")
    if kind in _TYPES:
        return f"must be {_TYPES[kind]} (got {describe(value)})"
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind in _BOUNDS:
        words, bound = _BOUNDS[kind]
        return f"must be {words} {_shown(ctx.get(bound))} (got {_shown(value)})"
    if kind in _MESSAGES:
        return _MESSAGES[kind](_Failure(value, ctx, model, loc))
    msg = str(error.get("msg", "invalid value"))
    return msg[:1].lower() + msg[1:]


def from_validation_error(
    exc: ValidationError, model: type[BaseModel], doc: Document
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, at the key it concerns."""
    out: list[Diagnostic] = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if p != "[key]")
        if error["type"] == "extra_forbidden":
            parent, key = loc[:-1], str(loc[-1])
            message = unknown_field(key, allowed_fields(model, parent))
            out.append(Diagnostic(message, doc.locate(loc), dotted(parent) or None))
            continue
        out.append(Diagnostic(_message(error, model, loc), doc.locate(loc), dotted(loc) or None))
    return out
