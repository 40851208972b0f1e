"""A dataset against the backend and its base model, before a job is paid for: whether the
backend tunes on the chat format, the base model's documented limits (tokens per example, the
training file, the validation set, adapter sizes, the media it accepts) and, on a backend with
Cloud Storage, that every ``fileData`` object exists, has the declared type and is within its
size. The media objects' generations and checksums go into the fingerprint, so replacing an
image retrains and touching nothing does not.

The limits come from the table the backend record names (`Api.limits_table`); the objects
from a function handed in by the command (desired state never calls a provider).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from gitops_tune import dataset as ds
from gitops_tune import manifest as mf
from gitops_tune.backends import Backend, Hyperparameters
from gitops_tune.dataset import chat
from gitops_tune.dataset.chat import tokens as estimate
from gitops_tune.dataset.tuning_limits import LimitsTable, ModelLimits, table
from gitops_tune.desired.downloads import kept
from gitops_tune.desired.state import RemoteObjects, RemoteRead
from gitops_tune.errors import Diagnostic, Location
from gitops_tune.providers.base import ProviderError

_ADAPTER = {"ONE": 1, "TWO": 2, "FOUR": 4, "EIGHT": 8, "SIXTEEN": 16, "THIRTY_TWO": 32}


def _row_field(field: str | None, path: str) -> str:
    return f"{field}.{path}" if field else path


def _tuned(item: mf.Parsed) -> mf.TunedModelDocument:
    assert isinstance(item.model, mf.TunedModelDocument)
    return item.model


def chat_rules(item: mf.Parsed, key: str, result: ds.Scan, backend: Backend) -> list[Diagnostic]:
    """Chat rows where the backend has no chat format, or with a preamble: one diagnostic."""
    if not result.chats:
        return []
    if not backend.api.chat_format:
        return [
            Diagnostic(
                "the Gemini chat format (contents, systemInstruction) is tuned on by Vertex AI "
                f"(Gemini Enterprise Agent Platform); {backend.api.title} tunes on "
                "text_input/output pairs",
                result.chat_at,
            )
        ]
    spec = _tuned(item).spec
    if spec.preamble:
        where = item.document.locate(("spec", "preamble"))
        return [
            Diagnostic(
                f"spec.{key} has chat examples: put the preamble in their systemInstruction "
                "(a preamble is prepended to pairs only)",
                where,
                "spec.preamble",
            )
        ]
    return []


def evaluation_chat_rules(
    item: mf.Parsed, result: ds.Scan, backend: Backend, rows: Iterable[ds.Item]
) -> list[Diagnostic]:
    """Chat rows of an evaluation set (``rows``: the set read again) against what the backend's
    tuned models take: with a preamble, refused as in training; where tuned models take text
    turns only, each row with a ``systemInstruction`` or a ``fileData`` part is refused where it
    is, so that it is not met when the model is asked."""
    if not result.chats:
        return []
    if not backend.api.tuned_text_only:
        return chat_rules(item, "evaluation.dataset", result, backend)
    title, spec = backend.api.title, _tuned(item).spec
    if spec.preamble:
        return [
            Diagnostic(
                "spec.evaluation.dataset has chat examples: write the preamble into their "
                f"first user turn ({title} takes no system instruction with a tuned model; a "
                "preamble is prepended to pairs only)",
                item.document.locate(("spec", "preamble")),
                "spec.preamble",
            )
        ]
    cited = '("Fine-tuning with the Gemini API", "Limitations of tuned models")'
    out = [
        Diagnostic(
            f"{title} takes no system instruction with a tuned model {cited}",
            row.location,
            _row_field(row.field, "systemInstruction"),
        )
        for row in rows
        if isinstance(row, ds.Row) and chat.is_chat(row.value) and _has_system(row.value)
    ]
    return out + [
        Diagnostic(
            f"{title} takes only text input with a tuned model {cited}",
            at,
            _row_field(field, media.field),
        )
        for media, at, field in result.media
    ]


def _has_system(value: object) -> bool:
    return isinstance(value, dict) and any(
        value.get(k) is not None for k in ("systemInstruction", "system_instruction")
    )


def _limits(backend: Backend, base_model: str) -> tuple[LimitsTable | None, ModelLimits | None]:
    found = table(backend.api.limits_table)
    return found, found.model(base_model) if found is not None else None


def model_limits(
    item: mf.Parsed, key: str, result: ds.Scan, backend: Backend, hp: Hyperparameters
) -> list[Diagnostic]:
    """The base model's documented limits for ``spec.<key>`` (a local dataset)."""
    spec = _tuned(item).spec
    limits_table, model = _limits(backend, spec.baseModel)
    if limits_table is None:
        return []
    out = _media_types(result, limits_table, model, spec.baseModel)
    if model is None:
        return out
    where = item.document.locate(("spec", key))
    tokens = model.tokens_per_example
    if tokens is not None:
        for chars, at, field in result.longest:
            if estimate(chars) > tokens:
                out.append(
                    Diagnostic(
                        f"about {estimate(chars):,} tokens (estimated from {chars:,} "
                        f"characters of text); {spec.baseModel} takes at most {tokens:,} input "
                        "and output tokens per training example",
                        at,
                        field,
                    )
                )
    size = result.jsonl_bytes
    if model.training_file_bytes is not None and size > model.training_file_bytes:
        out.append(
            Diagnostic(
                f"the staged JSONL would be {size:,} bytes; {_file_limit(model, spec.baseModel)}",
                where,
                f"spec.{key}",
            )
        )
    most = model.validation_examples
    if key == "validation" and most is not None and result.count > most:
        out.append(
            Diagnostic(
                f"{result.count:,} validation examples; {spec.baseModel} takes at most {most:,}",
                where,
                "spec.validation",
            )
        )
    return out


def _file_limit(model: ModelLimits, base: str) -> str:
    return (
        f"{base} takes a training file of at most {model.training_file_bytes:,} bytes "
        f"({model.cited('training_file_bytes')})"
    )


def remote_training_file(
    item: mf.Parsed, uri: str, size: str | None, backend: Backend
) -> list[Diagnostic]:
    """A ``gs://`` training file against the base model's training-file limit, by the size
    the storage API reports with its hashes (no download)."""
    base = _tuned(item).spec.baseModel
    _, model = _limits(backend, base)
    most = model.training_file_bytes if model is not None else None
    if model is None or most is None or size is None or int(size) <= most:
        return []
    return [
        Diagnostic(
            f"{uri} is {int(size):,} bytes; {_file_limit(model, base)}",
            item.document.locate(("spec", "dataset", "uri")),
            "spec.dataset.uri",
        )
    ]


def remote_validation(
    item: mf.Parsed,
    uri: str,
    hashes: Mapping[str, str],
    read: RemoteRead | None,
    home: Path,
    backend: Backend,
) -> list[Diagnostic]:
    """A ``gs://`` validation set against the base model's validation-set count: the object
    read through ``read`` once per content (kept under ``home``/datasets by its hashes,
    `desired.downloads`) and its JSONL lines counted. The table documents no validation-set
    file size, so its size is not checked."""
    base = _tuned(item).spec.baseModel
    _, model = _limits(backend, base)
    most = model.validation_examples if model is not None else None
    if model is None or most is None:
        return []
    where = item.document.locate(("spec", "validation", "uri"))
    if read is None:
        return [Diagnostic(f"cannot count {uri}: no storage client", where, "spec.validation.uri")]
    path = kept(uri, read, home / "datasets", hashes)
    if isinstance(path, str):
        return [Diagnostic(path, where, "spec.validation.uri")]
    with path.open("rb") as lines:
        count = sum(1 for line in lines if line.strip())
    if count <= most:
        return []
    return [
        Diagnostic(
            f"{uri} holds {count:,} validation examples; {base} takes at most {most:,} "
            f"({model.cited('validation_examples')})",
            where,
            "spec.validation.uri",
        )
    ]


def adapter_size(item: mf.Parsed, backend: Backend, hp: Hyperparameters) -> list[Diagnostic]:
    """An adapter size the base model does not list."""
    spec = _tuned(item).spec
    _, model = _limits(backend, spec.baseModel)
    given = spec.hyperparameters.adapterSize
    if model is None or not model.adapter_sizes or given is None:
        return []
    size = _ADAPTER.get(given.removeprefix("ADAPTER_SIZE_"))
    if size in model.adapter_sizes:
        return []
    sizes = ", ".join(str(s) for s in model.adapter_sizes)
    return [
        Diagnostic(
            f"{given}: {spec.baseModel} takes adapter sizes {sizes}",
            item.document.locate(("spec", "hyperparameters", "adapterSize")),
            "spec.hyperparameters.adapterSize",
        )
    ]


def _media_types(
    result: ds.Scan, limits_table: LimitsTable, model: ModelLimits | None, base: str
) -> list[Diagnostic]:
    """Each fileData part's mime type against what the base model tunes on, and how many
    parts of a kind one example holds."""
    out: list[Diagnostic] = []
    per_example: Counter[tuple[Location, str | None, str]] = Counter()
    accepted = limits_table.accepted_mime_types(model)
    for media, at, field in result.media:
        kind = limits_table.kind_of(media.mime_type)
        if media.mime_type not in accepted or kind is None:
            what = f"{base} tunes on" if model is not None else "Vertex AI tunes on"
            out.append(
                Diagnostic(
                    f"mime type {media.mime_type!r} is not one {what} "
                    f"(accepted: {', '.join(accepted)})",
                    at,
                    _row_field(field, f"{media.field}.mimeType"),
                )
            )
            continue
        per_example[(at, field, kind)] += 1
    for (at, field, kind), n in per_example.items():
        most = limits_table.media[kind].per_example
        if most is not None and n > most:
            out.append(
                Diagnostic(f"{n} {kind} parts; an example may hold at most {most}", at, field)
            )
    return out


def media_objects(
    result: ds.Scan, backend: Backend, objects: RemoteObjects | None
) -> tuple[list[tuple[str, Mapping[str, str]]], list[Diagnostic]]:
    """Every fileData object looked up in one batch: (uri, what the storage API reports)
    for the fingerprint, or one diagnostic per part whose object is missing, of another
    type, or over its kind's size."""
    if not result.media:
        return [], []
    first = result.media[0]
    if objects is None:
        return [], [Diagnostic("cannot check media: no storage client", first[1], None)]
    try:
        found = objects(sorted({m.uri for m, _, _ in result.media}))
    except ProviderError as e:
        return [], [Diagnostic(f"cannot check media: {e}", first[1], None)]
    limits_table = table(backend.api.limits_table)
    problems: list[Diagnostic] = []
    for media, at, field in result.media:
        problem = _object_problem(media, found.get(media.uri), limits_table)
        if problem:
            problems.append(Diagnostic(problem, at, _row_field(field, f"{media.field}.fileUri")))
    seen = sorted((uri, info) for uri, info in found.items() if info is not None)
    return seen, problems


def _object_problem(
    media: ds.Media, info: Mapping[str, str] | None, limits_table: LimitsTable | None
) -> str:
    if info is None:
        return f"no such object: {media.uri}"
    stored = info.get("contentType", "")
    if stored and stored != media.mime_type:
        return f"{media.uri} is stored as {stored!r}, but mimeType says {media.mime_type!r}"
    kind = limits_table.kind_of(media.mime_type) if limits_table is not None else None
    most = limits_table.media[kind].max_bytes if limits_table and kind else None
    size = int(info.get("size") or 0)
    if most is not None and size > most:
        return f"{media.uri} is {size:,} bytes; a {kind} may be at most {most:,} bytes"
    return ""


def with_media(fingerprint: str, seen: list[tuple[str, Mapping[str, str]]]) -> str:
    """The dataset's fingerprint with its media objects' generations and checksums; a
    dataset without media keeps its own."""
    if not seen:
        return fingerprint
    lines = [json.dumps({"dataset": fingerprint})] + [
        json.dumps(
            {"uri": uri, **{k: info.get(k, "") for k in ("generation", "crc32c", "md5Hash")}},
            sort_keys=True,
            separators=(",", ":"),
        )
        for uri, info in seen
    ]
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()
