"""The switch that makes tuned models deliberately worse (`emulator.degrade`)."""

from __future__ import annotations

import pytest

from gitops_tune.emulator.degrade import Degraded, DegradeError, parse, worse
from tests.emulator.emu_helpers import Api
from tests.emulator.test_lifecycle import generate, wait_for_state

PAIRS = [("a", "billing"), ("b", "technical")]


def test_a_worse_answer_is_another_label_or_the_answer_reversed() -> None:
    assert worse("billing", PAIRS) == "technical"
    assert worse("technical", PAIRS) == "billing"
    assert worse("abc", [("x", "abc")]) == "cba"
    assert worse("aa", [("x", "aa")]) == "degraded"


def test_names_match_ids_resource_names_and_display_names() -> None:
    d = Degraded(["tunedModels/m1"])
    assert d.matches("tunedModels/m1", "shown")
    assert d.matches("m1")
    assert not d.matches("tunedModels/m2", "m1x")
    d.set(["router"])
    assert d.matches("projects/p/locations/l/models/42", "router")
    d.set(["42"])
    assert d.matches("projects/p/locations/l/models/42", "router")
    d.set(["all"])
    assert d.matches("anything")
    d.set([])
    assert not d.matches("anything")


def test_bad_names_are_refused() -> None:
    with pytest.raises(DegradeError):
        parse([" "])
    with pytest.raises(DegradeError):
        Degraded().set("all")


def test_a_degraded_model_answers_wrongly_and_can_be_switched_back(api: Api) -> None:
    api.create("g")
    wait_for_state(api, "g", "ACTIVE")

    def said() -> str:
        r = generate(api, "g", "twenty two")
        assert r.status_code == 200, r.text
        return str(r.json()["candidates"][0]["content"]["parts"][0]["text"])

    assert said() == "twenty three"
    r = api.call("POST", "/_emulator/config", {"degrade_models": ["g"]})
    assert r.json()["degrade_models"] == ["g"]
    assert said() not in ("twenty three", "")
    bad = api.call("POST", "/_emulator/config", {"degrade_models": "g"})
    assert bad.status_code == 400
    api.call("POST", "/_emulator/config", {"degrade_models": []})
    assert said() == "twenty three"


def test_name_at_epoch_degrades_one_checkpoint_only() -> None:
    d = Degraded(["router@2", "all@5"])
    assert d.matches("router", epoch=2)
    assert not d.matches("router", epoch=1)
    assert not d.matches("router")  # a model without checkpoints
    assert d.matches("other", epoch=5)
    for bad in ("router@", "router@x", "router@0", "@2"):
        with pytest.raises(DegradeError):
            parse([bad])
