"""Backends' providers. ``open_provider`` is the only way the engine gets one: the backend's
record names the provider module, whose ``open(settings)`` makes it."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from gitops_tune.errors import UserError
from gitops_tune.providers.base import Provider, ProviderError

if TYPE_CHECKING:
    from gitops_tune.providers.sdk_storage import Storage
    from gitops_tune.settings import Settings


def open_provider(settings: Settings) -> Provider:
    module = importlib.import_module(settings.backend.provider)
    try:
        provider: Provider = module.open(settings)
    except ProviderError as e:
        raise UserError(str(e)) from None
    return provider


class RemoteHashes:
    """``gs://`` URI -> the content hashes Cloud Storage reports; the client is made on first
    use, so only trees with ``gs://`` datasets pay for it."""

    def __init__(self) -> None:
        self._hashes: object = None

    def __call__(self, uri: str) -> Mapping[str, str] | None:
        return self._storage().hashes(uri)

    def read(self, uri: str) -> bytes | None:
        """A ``gs://`` object's bytes (None: no such object): a ``gs://`` evaluation set."""
        return self._storage().read(uri)

    def objects(self, uris: Iterable[str]) -> Mapping[str, Mapping[str, str] | None]:
        """Media objects, batched (`Storage.objects`): what desired state checks them by."""
        return self._storage().objects(uris)

    def _storage(self) -> Storage:
        from gitops_tune.providers.sdk_storage import Storage

        if self._hashes is None:
            self._hashes = Storage()
        assert isinstance(self._hashes, Storage)
        return self._hashes
