"""``spec.serving.checkpoint``: one clear line for what it does not accept, and why ``best``
is not among its words (docs/vertex.md, under ``serving``)."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

NO_BEST = (
    "best is not available: Vertex AI reports no loss per checkpoint (TunedModelCheckpoint in"
    " tuning_job.proto, and google-genai's, carry checkpointId, epoch, step and endpoint only),"
    " so no checkpoint can be called best; read the job's loss curve in its Vertex AI"
    " Experiment and name that epoch, or use last"
)


def checkpoint_word(value: Any) -> Any:
    """``value`` unchanged when it may be ``last`` or an epoch; else one error, not one per
    member of the union."""
    if value == "best":
        raise PydanticCustomError("checkpoint_best", NO_BEST)
    wrong = isinstance(value, str) and value != "last"
    if wrong or (isinstance(value, int) and not isinstance(value, bool) and value < 1):
        raise PydanticCustomError(
            "checkpoint_name",
            "must be last or an epoch number, 1 or more (got {value})",
            {"value": repr(value)},
        )
    return value
