"""Stages while loading: a child's fingerprint holds its parent's; what a child asks of its
parent is checked; spec.from.tunedModel is preTunedModel's new spelling; manifests without
stages keep the fingerprints they had."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tune.desired import DesiredModel, collect
from gitops_tune.settings import Invocation
from tests.harness import examples

ROOT = Path(__file__).resolve().parents[2]


def load(
    tmp_path: Path, backend: str = "vertex", **specs: dict[str, Any]
) -> tuple[dict[str, DesiredModel], list[str]]:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "gitops-tune/v1",
            "kind": "Workspace",
            "metadata": {"name": "w"},
            "spec": {"backend": backend},
        }
    ]
    for name, spec in specs.items():
        body = {"baseModel": "gemini-2.5-flash", "dataset": {"examples": examples()}, **spec}
        docs.append(
            {"apiVersion": "gitops-tune/v1", "kind": "TunedModel", "metadata": {"name": name}}
            | {"spec": body}
        )
    (tmp_path / "m.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    state, found = collect([str(tmp_path)], Invocation.from_environ())
    return {m.name: m for m in state.models}, [str(e) for e in found]


FROM_SFT = {"from": {"model": "sft"}}


def test_a_childs_fingerprint_holds_its_parents(tmp_path: Path) -> None:
    models, found = load(tmp_path, sft={}, more=FROM_SFT)
    assert found == []
    child, parent = models["more"], models["sft"]
    assert child.stage is not None
    assert (child.stage.parent, child.stage.checkpoint) == ("sft", "last")
    assert child.stage.parent_fingerprint == parent.fingerprint
    assert child.fingerprint == child.stage.fingerprint_with(parent.fingerprint)
    assert child.fingerprint != child.stage.own_fingerprint

    changed, _ = load(tmp_path, sft={"dataset": {"examples": examples(tag="v2")}}, more=FROM_SFT)
    assert changed["sft"].fingerprint != parent.fingerprint
    assert changed["more"].fingerprint != child.fingerprint  # a new parent: a new child
    assert changed["more"].stage is not None
    assert changed["more"].stage.own_fingerprint == child.stage.own_fingerprint

    second, _ = load(tmp_path, sft={}, more={"from": {"model": "sft", "checkpoint": 2}})
    assert second["more"].fingerprint != child.fingerprint
    assert second["sft"].fingerprint == parent.fingerprint


def test_what_a_child_asks_of_its_parent_is_checked(tmp_path: Path) -> None:
    _, found = load(
        tmp_path,
        sft={"hyperparameters": {"epochCount": 3}},
        more={"baseModel": "gemini-2.5-pro", "from": {"model": "sft", "checkpoint": 4}},
    )
    assert len(found) == 2, found
    assert "spec.baseModel: must be 'gemini-2.5-flash', the base model of sft" in found[0]
    assert "spec.from.checkpoint: epoch 4 is beyond sft's epochCount 3" in found[1]
    _, found = load(
        tmp_path,
        sft={"exportLastCheckpointOnly": True},
        more={"from": {"model": "sft", "checkpoint": 2}},
    )
    assert [e.split(": ", 1)[1] for e in found] == [
        "spec.from.checkpoint: sft keeps its last checkpoint only (exportLastCheckpointOnly)"
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model": "sft", "checkpoint": "best"}, "spec.from.checkpoint: checkpoint best is not"),
        ({"model": "sft", "checkpoint": 0}, "spec.from.checkpoint: must be last or an epoch"),
        (
            {"model": "sft", "checkpoint": "2"},
            "spec.from.checkpoint: must be last or an epoch number (1 or more), got '2' (a "
            "string: write the number without quotes)",
        ),
        ({}, "spec.from: set exactly one of 'model'"),
        (
            {"model": "sft", "checkpointId": "3"},
            "spec.from.checkpointId: applies to from.tunedModel",
        ),
    ],
)
def test_a_wrong_from_is_one_error_at_its_key(
    tmp_path: Path, spec: dict[str, Any], message: str
) -> None:
    _, found = load(tmp_path, sft={}, more={"from": spec})
    assert len(found) == 1 and message in found[0], found


def test_from_tuned_model_is_pre_tuned_models_new_spelling(tmp_path: Path) -> None:
    name = "projects/p/locations/l/models/123"
    old, _ = load(tmp_path, m={"preTunedModel": {"tunedModelName": name, "checkpointId": "2"}})
    new, _ = load(tmp_path, m={"from": {"tunedModel": name, "checkpointId": "2"}})
    assert new["m"].fingerprint == old["m"].fingerprint
    assert new["m"].options == old["m"].options and new["m"].stage is None
    _, both = load(
        tmp_path, m={"preTunedModel": {"tunedModelName": name}, "from": {"tunedModel": name}}
    )
    assert len(both) == 1 and "spec.from: spec.from and spec.preTunedModel are both set" in both[0]


def test_the_gemini_api_refuses_from_and_says_why(tmp_path: Path) -> None:
    _, found = load(
        tmp_path,
        "gemini",
        sft={"baseModel": "models/x"},
        more={"baseModel": "models/x", **FROM_SFT},
    )
    (refused,) = found
    assert "spec.from: from does not apply to backend gemini: continuing from a tuned" in refused
    assert "tunedModelSource" in refused


#: What every example manifest's model fingerprints were before stages and tuning methods
#: existed (6778f2e): a model that declares neither keeps its fingerprint.
BEFORE_STAGES = {
    "examples": {
        "next-number": "a1f99f4922fe8a8e53eaf5a8f9329f0b118a192ce157726e6bb6908099a5c6a1",
        "ticket-router": "bf93927e57ad635b9abb52cd62818dfa63ecf53b5be11b84cee2cee77913c072",
    },
    "examples-vertex": {
        "receipt-store": "b2c534b11ae6e239d39ff72d851550bc07ffc72390ce99fa35ce35b449349587",
        "ticket-chat": "4b76bf980a0f70383e61b049ce6bbb621a272477f1373fa99dc3570c3372fb8e",
    },
    "examples-vertex-features": {
        "ticket-triage": "371583db111b6ecb781c8a18f5e47f27645f229b32ff1f89b34fcdcf44f41a60",
        "ticket-triage-fr": "929dac290a74627e66937f12d1051ac8d5af663fe144d027a997eaf40b9614cd",
    },
}


@pytest.mark.parametrize("folder", sorted(BEFORE_STAGES))
def test_manifests_without_stages_keep_their_fingerprints(folder: str) -> None:
    backend = "gemini" if folder == "examples" else "vertex"
    state, found = collect(
        [str(ROOT / folder)],
        Invocation.from_environ(None, backend),
        remote_hashes=lambda _uri: {"md5Hash": "x", "crc32c": "y", "generation": "1"},
        remote_objects=lambda uris: {
            u: {"generation": "1", "crc32c": "c", "contentType": "image/png", "size": "10"}
            for u in uris
        },
    )
    assert found == []
    fingerprints = {m.name: m.fingerprint for m in state.models}
    assert {n: fingerprints[n] for n in BEFORE_STAGES[folder]} == BEFORE_STAGES[folder]
