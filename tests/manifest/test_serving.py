"""``serving.checkpoint`` accepts last, best or an epoch, and says so in one line."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from gitops_tune.manifest.serving import checkpoint_word


@pytest.mark.parametrize("value", ["last", "best", 1, 12])
def test_words_and_epochs_pass_unchanged(value: object) -> None:
    assert checkpoint_word(value) == value


@pytest.mark.parametrize(("value", "shown"), [("first", "'first'"), (0, "0"), (-2, "-2")])
def test_anything_else_is_one_line(value: object, shown: str) -> None:
    with pytest.raises(PydanticCustomError) as e:
        checkpoint_word(value)
    assert e.value.message() == f"must be last, best or an epoch number, 1 or more (got {shown})"
