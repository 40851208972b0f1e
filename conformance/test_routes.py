"""Route conformance: the emulator serves Google's REST bindings and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.calls import TOOL_CALLS
from conformance.upstream import Binding, binding_for, bindings, sample_path


def test_upstream_table_is_read_from_the_packages() -> None:
    rpcs = {(b.api, b.rpc) for b in bindings()}
    # a few anchors, so an empty or broken table cannot pass everything below
    assert ("generativelanguage v1beta", "ModelService.CreateTunedModel") in rpcs
    assert ("aiplatform v1", "GenAiTuningService.CreateTuningJob") in rpcs
    assert ("storage v1", "objects.insert") in rpcs
    assert len(rpcs) > 100


def test_every_emulator_route_exists_upstream(emulator_routes: list[dict[str, Any]]) -> None:
    missing = [
        f"{r['method']} {r['template']} ({r['handler']})"
        for r in emulator_routes
        if binding_for(r["method"], sample_path(r["template"])) is None
    ]
    assert not missing, "routes Google does not serve:\n" + "\n".join(missing)


def served(binding: Binding, emulator_routes: list[dict[str, Any]]) -> dict[str, Any] | None:
    for route in emulator_routes:
        path = sample_path(route["template"])
        if route["method"] == binding.http_method and binding_for(route["method"], path) == binding:
            return route
    return None


@pytest.mark.parametrize("call", sorted(TOOL_CALLS), ids=lambda c: f"{c[0]}:{c[1]}")
def test_every_method_the_tool_calls_is_served(
    call: tuple[str, str], emulator_routes: list[dict[str, Any]]
) -> None:
    found = [b for b in bindings() if (b.api, b.rpc) == call]
    assert found, f"{call} is not in Google's definitions"
    assert any(served(b, emulator_routes) for b in found), f"{call} is not served"
