"""``spec.serving.checkpoint``: one clear line for what it does not accept. ``best`` is a word
here; where it may be used (an evaluation declared, every checkpoint kept, Vertex AI) is
checked with the rest of the model (`gitops_tune.desired.training`), and docs/vertex.md says
what it means."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

WORDS = ("last", "best")


def checkpoint_word(value: Any) -> Any:
    """``value`` unchanged when it may be ``last``, ``best`` or an epoch; else one error, not
    one per member of the union."""
    wrong = isinstance(value, str) and value not in WORDS
    if wrong or (isinstance(value, int) and not isinstance(value, bool) and value < 1):
        raise PydanticCustomError(
            "checkpoint_name",
            "must be last, best or an epoch number, 1 or more (got {value})",
            {"value": repr(value)},
        )
    return value
