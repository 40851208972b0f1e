"""Which endpoint each checkpoint is asked on for ``serving.checkpoint: best``."""

from __future__ import annotations

from gitops_tune.backends import Hyperparameters
from gitops_tune.gatekeeper import checkpoint_endpoints
from gitops_tune.providers.base import Checkpoint, RemoteModel, State

MAIN = "projects/p/locations/l/endpoints/10"


def model(serving: str, *checkpoints: Checkpoint) -> RemoteModel:
    return RemoteModel(
        id="j",
        display_name="m",
        description="",
        state=State.ACTIVE,
        base_model="b",
        owner=None,
        hyperparameters=Hyperparameters(epoch_count=2),
        endpoint=MAIN,
        checkpoints=checkpoints,
        serving_checkpoint=serving,
    )


def test_each_checkpoint_on_its_own_endpoint_and_the_served_one_on_the_main() -> None:
    one = Checkpoint("1", 1, 5, "projects/p/locations/l/endpoints/11")
    two = Checkpoint("2", 2, 10, MAIN)  # the final one, listed on the model's endpoint
    assert checkpoint_endpoints(model("2", one, two)) == [(1, one.endpoint), (2, MAIN)]
    # another checkpoint is served there now: the final one cannot be asked on its own
    assert checkpoint_endpoints(model("1", one, two)) == [(1, one.endpoint)]
    assert checkpoint_endpoints(model("", Checkpoint("1", 1))) == []
    assert checkpoint_endpoints(model("1", Checkpoint("1", 1))) == [(1, MAIN)]
