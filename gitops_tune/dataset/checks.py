"""The rules a dataset must follow: per example (a pair of non-empty strings, each within its
length limit) and per dataset (how many examples, how many bytes), as Google's "Fine-tuning
with the Gemini API" guide states them.

The preamble rule: ``text_input`` sent for training is ``preamble + input``, exactly, with no
separator added, so the input limit applies to both together. The same preamble must be sent
in front of every prompt at inference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from gitops_tune.dataset.records import Scan, Source
from gitops_tune.errors import Diagnostic, Location
from gitops_tune.hints import suggest

INPUT_LIMIT = 40_000  # characters per example input, after the preamble
OUTPUT_LIMIT = 5_000  # characters per example output
MIN_EXAMPLES = 20
RECOMMENDED_EXAMPLES = 100
MAX_DATASET_BYTES = 4 * 1024 * 1024  # the serialized `examples` array of the REST request
MAX_ROW_ERRORS = 100  # per dataset; the rest are counted, not listed

#: Recommended dataset sizes by task, from the table in Google's "Fine-tuning with the Gemini
#: API" guide: (amount, task as said in prose).
RECOMMENDATIONS: Mapping[str, tuple[str, str]] = {
    "classification": ("100+", "classification"),
    "summarization": ("100-500", "summarization"),
    "document-search": ("100+", "document search"),
    "other": ("100-500", ""),
}

_MULTI_TURN_KEYS = frozenset({"messages", "contents", "conversation", "turns"})


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def row_problems(value: object, source: Source) -> list[str]:
    """Why a row is not a valid single-turn example (slow path; called only on failure)."""
    fin, fout = source.input_field, source.output_field
    if not isinstance(value, dict):
        what = "mapping" if source.inline else "JSON object"
        return [f"an example must be a {what} with {fin!r} and {fout!r} (got {_kind(value)})"]
    multi = _MULTI_TURN_KEYS.intersection(value) or any(
        isinstance(value.get(f), (list, dict)) for f in (fin, fout)
    )
    if multi:
        return [
            "multi-turn conversations are not supported; each example is one "
            f"{fin!r}/{fout!r} pair of strings"
        ]
    unknown = [k for k in value if k not in (fin, fout)]
    problems = _unknown_fields(unknown, source) if source.inline else []
    for name, setting in ((fin, "inputField"), (fout, "outputField")):
        if name in value:
            problems += _field_problems(name, value[name], source)
            continue
        msg = f"missing {name!r}"
        if not source.inline and unknown:
            found = ", ".join(repr(str(k)) for k in unknown)
            msg += f" (found {found}; spec.dataset.{setting} names the field to read)"
        problems.append(msg)
    return problems


def _unknown_fields(unknown: list[object], source: Source) -> list[str]:
    """An inline example has exactly its two fields: one message per other key."""
    fin, fout = source.input_field, source.output_field
    problems = []
    for key in unknown:
        hint = suggest(str(key), (fin, fout))
        problems.append(
            f"unknown field {key!r}; did you mean {hint!r}?"
            if hint
            else f"unknown field {key!r} (an example has {fin!r} and {fout!r})"
        )
    return problems


def _field_problems(name: str, v: object, source: Source) -> list[str]:
    if not isinstance(v, str):
        hint = "; quote it" if source.inline and isinstance(v, (int, float, bool)) else ""
        shown = f" {json.dumps(v)}" if isinstance(v, (int, float, bool)) else ""
        return [f"{name} must be a string (got {_kind(v)}{shown}){hint}"]
    if not v.strip():
        empty = "empty" if not v else "only whitespace"
        # the output's rule code, as data-quality findings print theirs (docs/data-quality.md)
        return [f"{name} is {empty}" + (" [empty-output]" if name == source.output_field else "")]
    return []


def length_problems(text: str, output: str, source: Source) -> list[str]:
    problems = []
    if len(text) > INPUT_LIMIT:
        with_preamble = " with the preamble" if source.preamble else ""
        problems.append(
            f"{source.input_field} is {len(text):,} characters{with_preamble}; "
            f"the limit is {INPUT_LIMIT:,}"
        )
    if len(output) > OUTPUT_LIMIT:
        problems.append(
            f"{source.output_field} is {len(output):,} characters; the limit is {OUTPUT_LIMIT:,}"
        )
    return problems


def limits(
    result: Scan,
    task: str | None,
    location: Location,
    field: str = "spec.dataset",
    shown: str = "",
    request_limit: bool = True,
) -> list[Diagnostic]:
    """Dataset-level rules: at least `MIN_EXAMPLES` (error), fewer than `RECOMMENDED_EXAMPLES`
    (warning, task-specific), at most `MAX_DATASET_BYTES` (error). ``shown`` names where the
    examples come from (the data file), for the size error. ``request_limit=False``: the
    examples are staged as a file (Vertex AI), so the 4 MiB request limit does not apply."""
    out: list[Diagnostic] = []
    n = result.count
    plural = "example" if n == 1 else "examples"
    if n < MIN_EXAMPLES:
        out.append(
            Diagnostic(f"{n} {plural}; at least {MIN_EXAMPLES} are required", location, field)
        )
    elif n < RECOMMENDED_EXAMPLES:
        amount, label = RECOMMENDATIONS.get(task or "other", RECOMMENDATIONS["other"])
        purpose = f" for {label}" if label else ""
        out.append(
            Diagnostic(
                f"{n} {plural}; {amount} are recommended{purpose}",
                location,
                field,
                severity="warning",
            )
        )
    if request_limit and result.size > MAX_DATASET_BYTES:
        out.append(
            Diagnostic(
                f"the examples serialize to {result.size:,} bytes"
                + (f", all from {shown} ({result.count:,} examples)" if shown else "")
                + f"; the limit is {MAX_DATASET_BYTES:,} bytes (4 MiB)",
                location,
                field,
            )
        )
    return out
