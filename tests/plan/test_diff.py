"""The planner's cheap "nothing changed" check never hides a change DeepDiff would report."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_tune.plan.diff import diff, same

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=False),
    st.sampled_from([0.001, 0.0010000000474974513, 1e-3, 5, 5.0, 0.0, -0.0, 1.0000001]),
    st.sampled_from(["", "a", "b"]),
)


def _float32(x: float) -> float:
    """What an API that stores float32 answers for ``x``."""
    try:
        return float(struct.unpack("f", struct.pack("f", x))[0])
    except OverflowError:
        return x


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    a = {"displayName": draw(_scalars), "hyperparameters": {"lr": draw(_scalars), "e": 5}}
    b = {"displayName": a["displayName"], "hyperparameters": dict(a["hyperparameters"])}
    how = draw(st.sampled_from(["same", "float32", "other", "key"]))
    lr = a["hyperparameters"]["lr"]
    if how == "float32" and type(lr) is float:
        b["hyperparameters"]["lr"] = _float32(lr)
    elif how == "other":
        b["hyperparameters"]["lr"] = draw(_scalars)
    elif how == "key":
        b["hyperparameters"]["extra"] = 1
    return a, b


@settings(max_examples=2000, deadline=None)
@given(_pairs())
def test_same_implies_deepdiff_finds_nothing(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    from deepdiff import DeepDiff

    a, b = pair
    if same(a, b):
        assert not DeepDiff(
            a, b, significant_digits=7, number_format_notation="e", ignore_numeric_type_changes=True
        )


def test_float32_round_trip_and_int_float_are_the_same() -> None:
    before = {"hyperparameters": {"learningRate": 0.0010000000474974513, "epochCount": 5}}
    after = {"hyperparameters": {"learningRate": 0.001, "epochCount": 5.0}}
    assert same(before, after)
    assert diff(before, after) == ()


def test_a_real_change_still_goes_through_deepdiff() -> None:
    changes = diff({"displayName": "a", "n": 1}, {"displayName": "b", "n": 1})
    assert [(c.path, c.before, c.after) for c in changes] == [("displayName", "a", "b")]
    assert not same({"x": True}, {"x": 1})
