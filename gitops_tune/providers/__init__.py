"""Backends. ``open_provider`` is the only way the engine gets one, and the only place in
``providers`` that reads the environment (providers take explicit values)."""

from __future__ import annotations

import os

from gitops_tune.errors import UserError
from gitops_tune.providers.base import Provider, ProviderError
from gitops_tune.settings import Settings


def open_provider(settings: Settings) -> Provider:
    try:
        if settings.backend == "gemini":
            from gitops_tune.providers.gemini import GeminiProvider

            return GeminiProvider()
        if settings.backend == "local":
            from gitops_tune.providers.local import DEFAULT_TRAIN_SECONDS, open_local

            seconds = os.environ.get("GITOPS_TUNE_LOCAL_TRAIN_SECONDS", DEFAULT_TRAIN_SECONDS)
            provider: Provider = open_local(settings.dialect, float(seconds))
            return provider
        if settings.backend == "vertex":
            from gitops_tune.providers.vertex import VertexProvider

            vertex = settings.backend_settings.get("vertex") or {}
            return VertexProvider(
                _text(vertex, "project") or os.environ.get("GOOGLE_CLOUD_PROJECT"),
                _text(vertex, "location") or os.environ.get("GOOGLE_CLOUD_LOCATION"),
                _text(vertex, "stagingBucket") or os.environ.get("GITOPS_TUNE_STAGING_BUCKET"),
            )
    except ProviderError as e:
        raise UserError(str(e)) from None
    raise UserError(f"backend {settings.backend!r} is not available yet")


def _text(settings: object, key: str) -> str | None:
    value = settings.get(key) if isinstance(settings, dict) else None
    return str(value) if value else None
