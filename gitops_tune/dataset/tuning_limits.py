"""Each base model's documented tuning limits, from the dated and sourced table shipped with
the package (`tuning_limits.yaml`): tokens per example, the training file's size, the
validation set's size, adapter sizes, the kinds of media a model tunes on, and per kind of
media the mime types and the largest object.

A figure Google's pages do not give is ``None`` here and is not checked. The backend record
(`gitops_tune.backends.Api.limits_table`) says which table applies; a base model the table
does not list gets no model limits (the service itself is then the judge).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

MEDIA_KINDS = ("image", "audio", "video", "document")


@dataclass(frozen=True)
class ModelLimits:
    """One base model's limits (None: not documented, not checked)."""

    name: str
    tokens_per_example: int | None
    training_file_bytes: int | None
    validation_examples: int | None
    adapter_sizes: tuple[int, ...]
    modalities: tuple[str, ...]
    pages: Mapping[str, str] = field(default_factory=dict)  # figure -> the page it is from
    notes: Mapping[str, str] = field(default_factory=dict)  # figure -> the page's own words

    def cited(self, figure: str) -> str:
        """Where a figure comes from, for a message: ``"1GB for JSONL", Google's page
        "About supervised fine-tuning for Gemini models"``."""
        page = self.pages.get(figure)
        note = self.notes.get(figure)
        said = f'"{note}", ' if note else ""
        return f'{said}Google\'s page "{page}"' if page else said.removesuffix(", ")


@dataclass(frozen=True)
class MediaLimits:
    """One kind of media: the mime types a part may name, the largest object, per example."""

    kind: str
    mime_types: tuple[str, ...]
    max_bytes: int | None
    per_example: int | None


@dataclass(frozen=True)
class LimitsTable:
    models: Mapping[str, ModelLimits]
    media: Mapping[str, MediaLimits]
    media_resolutions: tuple[str, ...]
    #: method -> the base models offered it ("distillation_teachers": the teachers)
    methods: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def model(self, name: str) -> ModelLimits | None:
        return self.models.get(name)

    def kind_of(self, mime_type: str) -> str | None:
        """The kind of media a mime type is (``image``...), None if no kind lists it."""
        for kind, media in self.media.items():
            if mime_type in media.mime_types:
                return kind
        return None

    def accepted_mime_types(self, model: ModelLimits | None) -> tuple[str, ...]:
        kinds = model.modalities if model is not None else MEDIA_KINDS
        return tuple(m for k in kinds if k in self.media for m in self.media[k].mime_types)


def _value(entry: Any) -> Any:
    return entry.get("value") if isinstance(entry, dict) else None


def _model(name: str, raw: Mapping[str, Any], pages: Mapping[str, str]) -> ModelLimits:
    entries = {k: v for k, v in raw.items() if isinstance(v, dict)}
    return ModelLimits(
        name=name,
        tokens_per_example=_value(raw.get("tokens_per_example")),
        training_file_bytes=_value(raw.get("training_file_bytes")),
        validation_examples=_value(raw.get("validation_examples")),
        adapter_sizes=tuple(_value(raw.get("adapter_sizes")) or ()),
        modalities=tuple(_value(raw.get("modalities")) or ("text",)),
        pages={k: pages[v["source"]] for k, v in entries.items() if v.get("source") in pages},
        notes={k: str(v["note"]) for k, v in entries.items() if v.get("note")},
    )


def parse(text: str) -> LimitsTable:
    raw = yaml.safe_load(text)
    pages = {key: str(src.get("page", key)) for key, src in (raw.get("sources") or {}).items()}
    models = {name: _model(name, m, pages) for name, m in (raw.get("models") or {}).items()}
    media = {
        kind: MediaLimits(
            kind,
            tuple(_value(m.get("mime_types")) or ()),
            _value(m.get("max_bytes")),
            _value(m.get("per_example")),
        )
        for kind, m in (raw.get("media") or {}).items()
    }
    resolutions = tuple(_value((raw.get("media_resolution") or {}).get("values")) or ())
    methods = {
        name: tuple(_value(entry) or ()) for name, entry in (raw.get("methods") or {}).items()
    }
    return LimitsTable(models, media, resolutions, methods)


@functools.lru_cache(maxsize=4)
def table(name: str) -> LimitsTable | None:
    """The table the backend record names (``""``: none)."""
    if not name:
        return None
    text = resources.files("gitops_tune.dataset").joinpath(f"{name}.yaml").read_text("utf-8")
    return parse(text)


#: The table of the chat format's own rules (mediaResolution values): Vertex AI's.
CHAT_TABLE = "tuning_limits"


def media_resolutions() -> tuple[str, ...]:
    """The mediaResolution values a chat row may name."""
    found = table(CHAT_TABLE)
    return found.media_resolutions if found is not None else ()
