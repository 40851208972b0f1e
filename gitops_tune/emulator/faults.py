"""Injected latency and faults, changeable at run time through ``POST /_emulator/config``.

``before`` answers the error without touching anything; ``after`` runs the request (so a
create really creates) and then answers the error instead of the result, the case where a
client must not trust a failed answer; ``both`` picks one of the two at random per fault.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

FaultMode = Literal["before", "after", "both"]
FAULT_MODES: tuple[FaultMode, ...] = ("before", "after", "both")

# The faults a real client meets, with Google's status names.
FAULT_STATUSES: Mapping[int, str] = {
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}

FAULT_MESSAGES: Mapping[int, str] = {
    429: "Resource has been exhausted (e.g. check quota). [emulator: injected fault]",
    500: "An internal error has occurred. [emulator: injected fault]",
    503: "The service is currently unavailable. [emulator: injected fault]",
}


class FaultConfigError(ValueError):
    """An invalid fault setting; the message names it."""


def parse_fault_codes(raw: str | Iterable[int | str]) -> tuple[int, ...]:
    """``"429,503"`` or ``[429, 503]`` -> ``(429, 503)``; only codes in `FAULT_STATUSES`."""
    items: Iterable[int | str] = raw.split(",") if isinstance(raw, str) else raw
    codes: list[int] = []
    for item in items:
        if isinstance(item, bool):
            raise FaultConfigError(f"invalid fault code {item!r}")
        text = str(item).strip()
        if not text:
            continue
        try:
            code = int(text)
        except ValueError:
            raise FaultConfigError(f"invalid fault code {text!r}: not a number") from None
        if code not in FAULT_STATUSES:
            allowed = ", ".join(str(c) for c in FAULT_STATUSES)
            raise FaultConfigError(f"unsupported fault code {code}: use {allowed}")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise FaultConfigError("no fault code given: use e.g. 429,503")
    return tuple(codes)


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0
    fault_rate: float = 0.0
    fault_codes: tuple[int, ...] = (429, 503)
    fault_mode: FaultMode = "before"
    retry_after_seconds: int = 1  # Retry-After on 429 answers; 0 sends none

    def validated(self) -> FaultSettings:
        if isinstance(self.latency_ms, bool) or not isinstance(self.latency_ms, int):
            raise FaultConfigError("latency_ms must be an integer")
        if self.latency_ms < 0:
            raise FaultConfigError("latency_ms must be >= 0")
        rate = self.fault_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise FaultConfigError("fault_rate must be a number between 0 and 1")
        if self.fault_mode not in FAULT_MODES:
            raise FaultConfigError(f"fault_mode must be one of {', '.join(FAULT_MODES)}")
        parse_fault_codes(self.fault_codes)
        retry = self.retry_after_seconds
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise FaultConfigError("retry_after_seconds must be an integer >= 0")
        return replace(self, fault_rate=float(rate))


@dataclass(frozen=True)
class Fault:
    code: int
    when: Literal["before", "after"]

    @property
    def status(self) -> str:
        return FAULT_STATUSES[self.code]

    @property
    def message(self) -> str:
        return FAULT_MESSAGES[self.code]


class FaultInjector:
    """Thread-safe holder of the current settings; decides per request."""

    def __init__(self, settings: FaultSettings, seed: int | None = None) -> None:
        self._settings = settings.validated()
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return self._settings

    def update(self, changes: Mapping[str, object]) -> FaultSettings:
        """Apply a ``/_emulator/config`` body; unknown keys and bad values raise."""
        known = {"latency_ms", "fault_rate", "fault_codes", "fault_mode", "retry_after_seconds"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise FaultConfigError(
                f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        with self._lock:
            current = self._settings
            codes = current.fault_codes
            if "fault_codes" in changes:
                raw = changes["fault_codes"]
                if isinstance(raw, str) or (
                    isinstance(raw, list) and all(isinstance(c, int | str) for c in raw)
                ):
                    codes = parse_fault_codes(raw)
                else:
                    raise FaultConfigError("fault_codes must be a list or a comma-separated string")
            new = FaultSettings(
                latency_ms=changes.get("latency_ms", current.latency_ms),  # type: ignore[arg-type]
                fault_rate=changes.get("fault_rate", current.fault_rate),  # type: ignore[arg-type]
                fault_codes=codes,
                fault_mode=changes.get("fault_mode", current.fault_mode),  # type: ignore[arg-type]
                retry_after_seconds=changes.get(  # type: ignore[arg-type]
                    "retry_after_seconds", current.retry_after_seconds
                ),
            ).validated()
            self._settings = new
            return new

    def draw(self) -> Fault | None:
        """Whether this request fails, with which code and when."""
        with self._lock:
            s = self._settings
            if s.fault_rate <= 0 or self._random.random() >= s.fault_rate:
                return None
            code = self._random.choice(s.fault_codes)
            when: Literal["before", "after"]
            if s.fault_mode == "both":
                when = "before" if self._random.random() < 0.5 else "after"
            else:
                when = s.fault_mode
            return Fault(code, when)
