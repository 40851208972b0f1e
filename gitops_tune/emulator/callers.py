"""Who is calling the Gemini API: the API key and the project it belongs to.

By default any non-empty key is accepted and every caller is the same project (``""``), so
every tuned model belongs to every caller. With keys configured (``--api-key KEY=PROJECT``),
each key is a project of its own, as on Google's service: a key that is not configured gets
Google's bad-key answer, and a tuned model is only for its owner's project and the projects
in its ``readerProjectNumbers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from gitops_tune.emulator.api import ApiError, Request

_PROJECT = re.compile(r"[1-9][0-9]{0,18}\Z")
BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
SERVICE = "generativelanguage.googleapis.com"


class KeyConfigError(ValueError):
    """A ``--api-key`` entry that is not ``KEY`` or ``KEY=PROJECT_NUMBER``."""


def parse_keys(entries: Iterable[str]) -> dict[str, str]:
    """``KEY=PROJECT_NUMBER`` (or ``KEY``: the next project number, from 1001) by key."""
    keys: dict[str, str] = {}
    for i, entry in enumerate(entries):
        key, sep, project = entry.partition("=")
        project = project if sep else str(1001 + i)
        if not key or not _PROJECT.match(project):
            raise KeyConfigError(
                f"--api-key {entry!r}: expected KEY or KEY=PROJECT_NUMBER (a positive integer)"
            )
        keys[key] = project
    return keys


def bad_key() -> ApiError:
    """Google's answer to an API key it does not know: 400 with reason API_KEY_INVALID."""
    return ApiError(
        400,
        BAD_KEY_MESSAGE,
        "INVALID_ARGUMENT",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": SERVICE},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": BAD_KEY_MESSAGE,
            },
        ],
    )


def no_key() -> ApiError:
    return ApiError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
        "PERMISSION_DENIED",
    )


def project_of(req: Request, keys: Mapping[str, str]) -> str:
    """The calling project of a Gemini API request, or the error Google answers with."""
    key = req.headers.get("x-goog-api-key") or req.arg("key")
    if not key:
        raise no_key()
    if not keys:
        return ""
    project = keys.get(key)
    if project is None:
        raise bad_key()
    return project
