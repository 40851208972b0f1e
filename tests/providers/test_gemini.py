"""The Gemini provider's request bodies for random valid manifests (a hypothesis property).

Each generated manifest goes the product's whole way: YAML on disk -> `desired.load` (the
manifest checks and the backend's defaults) -> `GeminiProvider.create` -> the emulator, which
must accept it and store what the manifest says. Under ``pytest --record-wire DIR`` every body
sent here lands in the corpus, and the conformance suite (conformance/test_bodies.py) parses
each one strictly into Google's ``CreateTunedModelRequest``: together, random valid manifests
-> provider request bodies -> strict parse.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_tune.apply import new_model
from gitops_tune.emulator.server import EmulatorConfig, start
from gitops_tune.providers.base import Owner, ProviderError, Turns
from gitops_tune.providers.gemini import GeminiProvider
from gitops_tune.providers.sdk_genai import Genai
from tests.harness import write_manifest
from tests.providers.properties import TEXT, budget, load_one

BASE = "models/gemini-1.5-flash-001-tuning"
_text = TEXT
_examples = st.lists(
    st.fixed_dictionaries({"text_input": _text, "output": _text}), min_size=20, max_size=40
)
_rate = st.floats(min_value=1e-6, max_value=1.0, allow_nan=False, allow_infinity=False)
_hyper = st.fixed_dictionaries(
    {},
    optional={
        "epochCount": st.integers(1, 20),
        "batchSize": st.integers(1, 64),
    },
).flatmap(
    lambda h: st.one_of(
        st.just(h),
        _rate.map(lambda r: {**h, "learningRate": r}),
        _rate.map(lambda r: {**h, "learningRateMultiplier": r * 10}),
    )
)
_specs = st.fixed_dictionaries(
    {"dataset": _examples.map(lambda e: {"examples": e}), "hyperparameters": _hyper},
    optional={
        "displayName": _text.map(lambda s: s[:40].strip() or "x"),
        "description": _text,
        "preamble": _text.map(lambda s: s + " "),
    },
)
_ids = itertools.count()


@budget(25)
@given(spec=_specs)
def test_random_valid_manifests_make_bodies_the_api_accepts(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder, start(EmulatorConfig(port=0)) as running:
        root = Path(folder)
        write_manifest(root, "prop", {"baseModel": BASE, **spec})
        desired = load_one(root, "gemini")
        model_id = f"prop-{next(_ids)}"
        owner = Owner("prop", desired.name, desired.fingerprint)
        created = GeminiProvider("k", running.url).create(new_model(desired, model_id, owner))
        assert created.owner == owner
        stored = running.store.get(model_id)
        assert stored is not None
        assert stored.display_name == desired.display_name
        assert stored.example_count == len(spec["dataset"]["examples"])
        sent = desired.hyperparameters.fields()
        assert {k: stored.hyperparameters[k] for k in sent} == sent
        preamble = spec.get("preamble", "")
        inputs = [i for i, _ in running.store.examples(model_id)]
        assert inputs == [preamble + e["text_input"] for e in spec["dataset"]["examples"]]


def test_turns_google_genai_cannot_send_are_one_error_before_any_call() -> None:
    """A chat row's ``videoMetadata`` is checked for its keys only; a value the SDK's types
    refuse is a ProviderError (one line at apply), not a traceback, and nothing is sent."""
    sdk = Genai.gemini("key", "http://127.0.0.1:9", 1.0, "v1beta")  # nothing listens there
    part = {"text": "a", "videoMetadata": {"fps": "fast"}}
    bad = Turns(({"role": "user", "parts": [part]},))
    with pytest.raises(ProviderError, match="not a request google-genai can send") as e:
        sdk.generate("tunedModels/x", bad)
    assert e.value.status is None


def test_without_an_api_key_the_first_call_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client is made on first use (a no-change plan never imports google-genai), so a
    missing key is the first call's `ProviderError`, and a later call asks again."""
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    sdk = Genai.gemini(None, "http://127.0.0.1:9", 1.0, "v1beta")
    for _ in range(2):
        with pytest.raises(ProviderError, match="no API key: set GEMINI_API_KEY") as e:
            sdk.request("get", "tunedModels")
        assert e.value.status is None
