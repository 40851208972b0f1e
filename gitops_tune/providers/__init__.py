"""Backends. ``open_provider`` is the only way the engine gets one."""

from __future__ import annotations

from gitops_tune.errors import UserError
from gitops_tune.providers.base import Provider, ProviderError
from gitops_tune.settings import Settings


def open_provider(settings: Settings) -> Provider:
    try:
        if settings.backend == "gemini":
            from gitops_tune.providers.gemini import GeminiProvider

            return GeminiProvider()
        if settings.backend == "local":
            from gitops_tune.providers.local import open_local

            return open_local()
    except ProviderError as e:
        raise UserError(str(e)) from None
    raise UserError(f"backend {settings.backend!r} is not available yet")
