"""The emulator's route table as JSON, for the conformance suite (which runs in a venv of
Google's own packages and cannot import this one)::

    python -m gitops_tune.emulator.routes > routes.json

One entry per API route: ``{"method", "template", "handler", "auth"}``; the ``/_emulator/*``
control routes are left out, since Google has no such thing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from gitops_tune.emulator.server import Emulator, EmulatorConfig


def route_table(config: EmulatorConfig | None = None) -> list[dict[str, Any]]:
    emulator = Emulator(config or EmulatorConfig())
    try:
        return [
            {
                "method": route.method,
                "template": route.template,
                "handler": _handler_name(route.handler),
                "auth": route.auth,
            }
            for route in emulator.router.routes
            if route.api
        ]
    finally:
        emulator.store.close()


def _handler_name(handler: object) -> str:
    func = getattr(handler, "__func__", handler)
    module = str(getattr(func, "__module__", "")).removeprefix("gitops_tune.emulator.")
    return f"{module}.{getattr(func, '__qualname__', repr(func))}"


def main() -> int:
    json.dump(route_table(), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
