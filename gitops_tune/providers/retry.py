"""Retrying transient provider errors: bounded exponential backoff with full jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gitops_tune.providers.base import ProviderError, TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter; ``Retry-After`` is a floor when given."""

    attempts: int = 8
    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        jittered = random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))
        return max(jittered, min(retry_after or 0.0, self.cap_s))


def with_retries(call: Callable[[], T], what: str, policy: RetryPolicy) -> T:
    for attempt in range(policy.attempts):
        try:
            return call()
        except TransientError as e:
            if attempt == policy.attempts - 1:
                raise ProviderError(f"{what}: gave up after {policy.attempts} attempts: {e}") from e
            time.sleep(policy.delay(attempt, e.retry_after))
    raise AssertionError("unreachable")


def retry_after(e: Exception) -> float | None:
    """The ``Retry-After`` seconds of an error's HTTP response, if it has one."""
    response = getattr(e, "response", None)
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("retry-after") if hasattr(headers, "get") else None
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def is_transport_error(e: Exception) -> bool:
    """Whether an SDK failure is an httpx/httpx2 transport failure (a timeout, a refused or
    dropped connection): worth a retry."""
    for module_name in ("httpx", "httpx2"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        transport = getattr(module, "TransportError", None)
        if transport is not None and isinstance(e, transport):
            return True
    return False
