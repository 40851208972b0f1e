"""Injected faults and latency, the run-time config route and request stats."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from gitops_tune.emulator.faults import FaultConfigError, parse_fault_codes
from gitops_tune.emulator.server import EmulatorConfig, start
from tests.emulator.emu_helpers import Api, assert_error


@pytest.fixture
def faulty() -> Iterator[Api]:
    with start(EmulatorConfig(port=0, train_seconds=1.0, fault_seed=7)) as running:
        yield Api(running.url)


def configure(api: Api, **settings: Any) -> dict[str, Any]:
    r = api.call("POST", "/_emulator/config", settings, key=False)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_before_mode_changes_nothing(faulty: Api) -> None:
    configure(faulty, fault_rate=1.0, fault_codes=[503], fault_mode="before")
    assert_error(faulty.create("b"), 503, "UNAVAILABLE")
    configure(faulty, fault_rate=0.0)
    assert_error(faulty.call("GET", "/v1beta/tunedModels/b"), 404, "NOT_FOUND")


def test_after_mode_commits_then_loses_the_answer(faulty: Api) -> None:
    configure(faulty, fault_rate=1.0, fault_codes="500", fault_mode="after")
    assert_error(faulty.create("a"), 500, "INTERNAL")
    assert_error(faulty.call("DELETE", "/v1beta/tunedModels/nope"), 500, "INTERNAL")
    configure(faulty, fault_rate=0.0)
    assert faulty.get("a")["name"] == "tunedModels/a"  # it was created
    assert_error(faulty.create("a"), 409, "ALREADY_EXISTS")  # so a blind retry conflicts


def test_both_mode_mixes_before_and_after(faulty: Api) -> None:
    configure(faulty, fault_rate=1.0, fault_codes=[503], fault_mode="both")
    for i in range(20):
        assert_error(faulty.create(f"m{i:02d}"), 503, "UNAVAILABLE")
    configure(faulty, fault_rate=0.0)
    page = faulty.call("GET", "/v1beta/tunedModels", params={"pageSize": 100}).json()
    created = len(page.get("tunedModels", []))
    assert 0 < created < 20  # some were committed ("after"), some not ("before")


def test_429_carries_retry_after(faulty: Api) -> None:
    configure(faulty, fault_rate=1.0, fault_codes=[429], retry_after_seconds=2)
    r = faulty.call("GET", "/v1beta/tunedModels")
    assert_error(r, 429, "RESOURCE_EXHAUSTED")
    assert r.headers["retry-after"] == "2"
    assert r.json()["error"]["details"][0]["retryDelay"] == "2s"


def test_partial_fault_rate_mixes_codes(faulty: Api) -> None:
    configure(faulty, fault_rate=0.5, fault_codes=[429, 500, 503])
    codes = Counter(faulty.call("GET", "/v1beta/models").status_code for _ in range(60))
    assert set(codes) == {200, 429, 500, 503}


def test_faults_never_hit_control_routes(faulty: Api) -> None:
    configure(faulty, fault_rate=1.0, fault_codes=[503])
    for path in ("/_emulator/stats", "/_emulator/config"):
        assert faulty.call("GET", path, key=False).status_code == 200


def test_faults_come_from_the_config_at_start() -> None:
    config = EmulatorConfig(port=0, fault_rate=1.0, fault_codes=(429,), retry_after_seconds=0)
    with start(config) as running:
        r = Api(running.url).call("GET", "/v1beta/models")
        assert_error(r, 429, "RESOURCE_EXHAUSTED")
        assert "retry-after" not in r.headers


def test_latency_delays_api_answers(faulty: Api) -> None:
    configure(faulty, latency_ms=150)
    t0 = time.monotonic()
    faulty.call("GET", "/v1beta/models")
    assert time.monotonic() - t0 >= 0.15
    t0 = time.monotonic()
    faulty.call("GET", "/_emulator/stats", key=False)
    assert time.monotonic() - t0 < 0.15


@pytest.mark.parametrize(
    "settings",
    [
        {"fault_rate": 2},
        {"fault_rate": "high"},
        {"fault_codes": [404]},
        {"fault_codes": "429,x"},
        {"fault_codes": []},
        {"fault_mode": "sometimes"},
        {"latency_ms": -1},
        {"latency_ms": 1.5},
        {"surprise": 1},
    ],
)
def test_bad_config_is_400_and_changes_nothing(faulty: Api, settings: dict[str, Any]) -> None:
    before = faulty.call("GET", "/_emulator/config", key=False).json()
    r = faulty.call("POST", "/_emulator/config", settings, key=False)
    assert_error(r, 400, "INVALID_ARGUMENT")
    assert faulty.call("GET", "/_emulator/config", key=False).json() == before


def test_config_reports_current_settings(faulty: Api) -> None:
    current = configure(faulty, latency_ms=5, fault_codes="429, 500", fault_mode="both")
    assert current["latency_ms"] == 5
    assert current["fault_codes"] == [429, 500]
    assert current["fault_mode"] == "both"
    assert current["fault_rate"] == 0.0


def test_parse_fault_codes() -> None:
    assert parse_fault_codes("429,503") == (429, 503)
    assert parse_fault_codes(" 500 , 500 ") == (500,)
    for bad in ("", "404", "abc", "429;503"):
        with pytest.raises(FaultConfigError):
            parse_fault_codes(bad)


def test_stats_count_by_route_template_including_faults(faulty: Api) -> None:
    faulty.create("s1")
    faulty.get("s1")
    faulty.call("GET", "/v1beta/tunedModels")
    faulty.call("GET", "/v1beta/tunedModels", key=False)  # refused, still counted
    configure(faulty, fault_rate=1.0, fault_codes=[503])
    assert faulty.call("GET", "/v1beta/tunedModels/s1").status_code == 503
    faulty.call("GET", "/v1beta/no/such/route")
    stats = faulty.call("GET", "/_emulator/stats", key=False).json()["requests"]
    assert stats["POST /v1beta/tunedModels"] == 1
    assert stats["GET /v1beta/tunedModels/{id}"] == 2
    assert stats["GET /v1beta/tunedModels"] == 2
    assert stats["POST /_emulator/config"] == 1
    assert stats["GET (unmatched)"] == 1


def test_reset_clears_stats(faulty: Api) -> None:
    faulty.call("GET", "/v1beta/models")
    faulty.call("POST", "/_emulator/reset", key=False)
    stats = faulty.call("GET", "/_emulator/stats", key=False).json()["requests"]
    assert stats == {"GET /_emulator/stats": 1}
