"""Who may see a tuned model: its owner's project, and the projects in its
``readerProjectNumbers`` (read only). The caller's project comes from its API key
(`emulator.callers`); with no keys configured every caller is the same project.

The answer for a model that exists but is someone else's is Google's 403, "You do not have
permission to access tuned model tunedModels/ID".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from gitops_tune.emulator.api import ApiError, invalid, proto_number
from gitops_tune.emulator.store import ModelRecord

MAX_READERS = 100  # an emulator limit, so a body cannot grow a record without bound


def denied(model_id: str) -> ApiError:
    return ApiError(
        403,
        f"You do not have permission to access tuned model tunedModels/{model_id}",
        "PERMISSION_DENIED",
    )


def check_read(rec: ModelRecord, caller: str) -> ModelRecord:
    if not rec.readable_by(caller):
        raise denied(rec.id)
    return rec


def check_write(rec: ModelRecord, caller: str) -> ModelRecord:
    if rec.owner != caller:
        raise denied(rec.id)
    return rec


def reader_numbers(raw: object) -> tuple[str, ...]:
    """``readerProjectNumbers``: a list of int64 project numbers (JSON numbers or decimal
    strings, as proto3 JSON allows), kept as decimal strings."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise invalid(f"readerProjectNumbers must be a list, got {json.dumps(raw)}.")
    if len(raw) > MAX_READERS:
        raise invalid(f"readerProjectNumbers: at most {MAX_READERS} projects.")
    out: list[str] = []
    for i, item in enumerate(raw):
        number = proto_number(item)
        if number is None or number != int(number) or not 0 < number < 2**63:
            raise invalid(
                f"readerProjectNumbers[{i}] must be a positive int64, got {json.dumps(item)}."
            )
        out.append(str(int(number)))
    return tuple(dict.fromkeys(out))


OWNER_OPERATORS = ("owner:me", "writers:me")


@dataclass(frozen=True)
class ListFilter:
    terms: Sequence[str]  # full-text terms
    owner: str | None  # only this project's models
    reader: str | None  # only models this project may read


def list_filter(raw: str | None, caller: str) -> ListFilter | None:
    """A ``tunedModels.list`` filter for ``caller``; None when nothing can match
    (``readers:everyone``: the emulator shares nothing with everyone)."""
    terms: list[str] = []
    owner: str | None = None
    for word in (raw or "").split():
        lowered = word.casefold()
        if lowered in OWNER_OPERATORS:
            owner = caller
        elif lowered == "readers:me":
            continue  # what the caller may read: the default
        elif lowered == "readers:everyone":
            return None
        else:
            terms.append(word)
    return ListFilter(terms, owner, caller)
