"""backends.py: one record per backend, and no other room deciding by a backend's name."""

from __future__ import annotations

import re

import pytest

from gitops_tune import backends
from gitops_tune.backends import Hyperparameters
from tests import ROOT

PACKAGE = ROOT / "gitops_tune"


def test_every_backend_has_a_record_and_local_speaks_either_api() -> None:
    assert backends.NAMES == ("local", "gemini", "vertex")
    for name in backends.NAMES:
        assert backends.backend(name).name == name
    assert backends.backend("local", "vertex").api is backends.VERTEX_API
    assert backends.backend("local").api is backends.GEMINI_API
    assert backends.backend("local", "vertex").label == "local (vertex dialect)"
    assert backends.backend("vertex").label == "vertex"
    with pytest.raises(ValueError, match="backend 'aws'"):
        backends.backend("aws")
    with pytest.raises(ValueError, match="dialect 'grpc'"):
        backends.backend("local", "grpc")


def test_defaults_are_google_s_and_a_learning_rate_given_one_way_drops_the_other() -> None:
    gemini, vertex = backends.GEMINI_API, backends.VERTEX_API
    assert gemini.hyperparameters({}).fields() == {
        "epochCount": 5,
        "batchSize": 4,
        "learningRate": 0.001,
    }
    assert gemini.hyperparameters({"learningRateMultiplier": 2}).fields() == {
        "epochCount": 5,
        "batchSize": 4,
        "learningRateMultiplier": 2.0,
    }
    assert vertex.hyperparameters({"epochCount": 3}).fields() == {
        "epochCount": 3,
        "learningRateMultiplier": 1.0,
    }
    assert vertex.refused({"batchSize": 4, "learningRate": 0.1, "epochCount": 2}) == [
        "batchSize",
        "learningRate",
    ]
    assert gemini.refused({"adapterSize": "ADAPTER_SIZE_ONE"}) == ["adapterSize"]


def test_base_model_naming() -> None:
    assert backends.GEMINI_API.base_model_problem("models/gemini-1.5-flash-001-tuning") is None
    assert backends.VERTEX_API.base_model_problem("gemini-2.5-flash") is None
    problem = backends.VERTEX_API.base_model_problem("models/gemini-2.5-flash")
    assert problem is not None and "without 'models/'" in problem


def test_hyperparameters_read_what_backends_report() -> None:
    hp = Hyperparameters.from_fields({"epochCount": "3", "learningRateMultiplier": 1, "x": 1})
    assert hp == Hyperparameters(epoch_count=3, learning_rate_multiplier=1.0)
    assert Hyperparameters().epochs == backends.DEFAULT_EPOCH_COUNT
    assert Hyperparameters(epoch_count=2, batch_size=4).total_steps(9) == 5
    # Google's recorded tutorial run: 15 examples, 5 epochs
    assert Hyperparameters(epoch_count=5, batch_size=2).total_steps(15) == 38
    assert Hyperparameters(epoch_count=5, batch_size=4).total_steps(15) == 19


def test_no_other_room_compares_backend_names() -> None:
    """Backend names are spelled only where they are defined and parsed (and in the
    emulator, which stands in for Google and shares nothing with the client)."""
    allowed = {"backends.py", "settings.py"}
    pattern = re.compile(r"""["'](gemini|vertex)["']""")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in allowed and "emulator" not in path.relative_to(PACKAGE).parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
