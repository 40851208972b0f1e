"""``serving.checkpoint`` accepts last or an epoch, and says why ``best`` is not a word."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from gitops_tune.manifest.serving import NO_BEST, checkpoint_word


@pytest.mark.parametrize("value", ["last", 1, 12])
def test_last_and_epochs_pass_unchanged(value: object) -> None:
    assert checkpoint_word(value) == value


def test_best_says_why_not() -> None:
    with pytest.raises(PydanticCustomError) as e:
        checkpoint_word("best")
    assert e.value.message() == NO_BEST


@pytest.mark.parametrize(("value", "shown"), [("first", "'first'"), (0, "0"), (-2, "-2")])
def test_anything_else_is_one_line(value: object, shown: str) -> None:
    with pytest.raises(PydanticCustomError) as e:
        checkpoint_word(value)
    assert e.value.message() == f"must be last or an epoch number, 1 or more (got {shown})"
