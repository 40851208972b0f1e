"""The Gemini API's base models: what ``GET /v1beta/models`` lists and which ones can be tuned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


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


TUNABLE_METHODS = ("generateContent", "countTokens", "createTunedModel")

DEFAULT_BASE_MODELS: tuple[BaseModel, ...] = (
    BaseModel(
        "models/gemini-1.5-flash-001-tuning",
        "Gemini 1.5 Flash 001 Tuning",
        TUNABLE_METHODS,
        description="Version of Gemini 1.5 Flash that supports tuning.",
    ),
    BaseModel(
        "models/gemini-1.5-flash-001",
        "Gemini 1.5 Flash 001",
        ("generateContent", "countTokens", "createCachedContent"),
        input_token_limit=1_000_000,
        description="Gemini 1.5 Flash (does not support tuning).",
    ),
    BaseModel(
        "models/gemini-1.5-pro-001",
        "Gemini 1.5 Pro 001",
        ("generateContent", "countTokens", "createCachedContent"),
        input_token_limit=2_000_000,
        description="Gemini 1.5 Pro (does not support tuning).",
    ),
    BaseModel(
        "models/gemini-2.0-flash",
        "Gemini 2.0 Flash",
        ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent"),
        version="2.0",
        input_token_limit=1_048_576,
        description="Gemini 2.0 Flash (does not support tuning).",
    ),
)


def base_models_with(extra: Iterable[str]) -> tuple[BaseModel, ...]:
    """The default base models plus tunable ``extra`` ones (``NAME`` or ``models/NAME``)."""
    models = {m.name: m for m in DEFAULT_BASE_MODELS}
    for raw in extra:
        name = raw if raw.startswith("models/") else f"models/{raw}"
        models[name] = BaseModel(name, name.removeprefix("models/"), TUNABLE_METHODS)
    return tuple(models.values())
