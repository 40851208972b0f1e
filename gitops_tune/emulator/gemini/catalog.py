"""Base models: what ``GET /v1beta/models`` lists, which ones can be tuned, and which ones
Vertex AI supervised tuning takes. They come from a catalog file with dated sources
(``emulator/catalogs/*.json``):

- ``documented``: the models of Google's tuning documentation (``gemini-1.5-flash-001-tuning``
  on the Gemini API), so the documented walkthrough works offline; the default;
- ``current``: what Google serves now: no Gemini API model supports ``createTunedModel``.

A catalog file of one's own has the same shape (see docs/emulator.md, "Base models").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

CATALOGS = ("documented", "current")
DEFAULT_CATALOG = "documented"
TUNABLE_METHODS = ("generateContent", "countTokens", "createTunedModel")


class CatalogError(ValueError):
    """A catalog name that is not shipped, or a file that is not a catalog."""


@dataclass(frozen=True)
class BaseModel:
    name: str  # "models/..."
    display_name: str
    methods: tuple[str, ...]
    version: str = "001"
    description: str = ""
    input_token_limit: int = 16384
    output_token_limit: int = 8192
    temperature: float = 1.0
    max_temperature: float = 2.0
    top_p: float = 0.95
    top_k: int = 64

    @property
    def tunable(self) -> bool:
        return "createTunedModel" in self.methods

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseModelId": self.name.removeprefix("models/"),
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.methods),
            "temperature": self.temperature,
            "maxTemperature": self.max_temperature,
            "topP": self.top_p,
            "topK": self.top_k,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> BaseModel:
        """A Model as the API returns it (the catalog files hold exactly that shape)."""
        name = str(doc["name"])
        if not name.startswith("models/"):
            raise CatalogError(f"model name {name!r} must start with 'models/'")
        return cls(
            name=name,
            display_name=str(doc.get("displayName", name.removeprefix("models/"))),
            methods=tuple(str(m) for m in doc.get("supportedGenerationMethods", ())),
            version=str(doc.get("version", "001")),
            description=str(doc.get("description", "")),
            input_token_limit=int(doc.get("inputTokenLimit", 16384)),
            output_token_limit=int(doc.get("outputTokenLimit", 8192)),
            temperature=float(doc.get("temperature", 1.0)),
            max_temperature=float(doc.get("maxTemperature", 2.0)),
            top_p=float(doc.get("topP", 0.95)),
            top_k=int(doc.get("topK", 64)),
        )


@dataclass(frozen=True)
class Catalog:
    name: str
    gemini: tuple[BaseModel, ...]
    vertex_tunable: tuple[str, ...]  # Vertex AI supervised-tuning base models
    vertex_other: tuple[str, ...]  # publisher models Vertex AI knows but does not tune
    sources: tuple[Mapping[str, str], ...]
    #: tuning method -> the Vertex AI base models offered it (supervised: `vertex_tunable`)
    vertex_methods: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def with_tunable(self, extra: Iterable[str]) -> Catalog:
        """Plus tunable Gemini API models ``extra`` (``NAME`` or ``models/NAME``)."""
        models = {m.name: m for m in self.gemini}
        for raw in extra:
            name = raw if raw.startswith("models/") else f"models/{raw}"
            models[name] = BaseModel(name, name.removeprefix("models/"), TUNABLE_METHODS)
        return replace(self, gemini=tuple(models.values()))


def _parse(doc: Any, origin: str) -> Catalog:
    try:
        vertex = doc.get("vertex", {})
        sources = tuple(dict(s) for s in doc["sources"])
        if not sources or not all(s.get("url") and s.get("checked") for s in sources):
            raise CatalogError("every source needs a url and the date it was checked")
        return Catalog(
            name=str(doc.get("catalog", origin)),
            gemini=tuple(BaseModel.from_json(m) for m in doc["gemini"]),
            vertex_tunable=tuple(str(m) for m in vertex.get("supervisedTuning", ())),
            vertex_other=tuple(str(m) for m in vertex.get("other", ())),
            sources=sources,
            vertex_methods={
                str(k): tuple(str(m) for m in v) for k, v in (vertex.get("methods") or {}).items()
            },
        )
    except CatalogError as e:
        raise CatalogError(f"{origin}: {e}") from None
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise CatalogError(
            f"{origin}: not a base-model catalog ({type(e).__name__}: {e})"
        ) from None


def load(spec: str = DEFAULT_CATALOG) -> Catalog:
    """A shipped catalog by name (`CATALOGS`), or a catalog file by path."""
    if spec in CATALOGS:
        text = resources.files("gitops_tune.emulator").joinpath(f"catalogs/{spec}.json").read_text()
        origin = f"catalog {spec!r}"
    else:
        path = Path(spec)
        if not path.is_file():
            raise CatalogError(
                f"--catalog {spec!r}: neither {' nor '.join(CATALOGS)} nor a catalog file"
            )
        text = path.read_text(encoding="utf-8")
        origin = str(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise CatalogError(f"{origin}:{e.lineno}: invalid JSON: {e.msg}") from None
    return _parse(doc, origin)
