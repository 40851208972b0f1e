"""The Vertex provider's tuning jobs for random valid manifests (a hypothesis property).

Each generated manifest goes the product's whole way: YAML on disk -> `desired.load` (the
manifest checks and the Vertex backend's defaults) -> `VertexProvider.create` (the data staged
in Cloud Storage, then ``tuningJobs.create`` through google-genai) -> the emulator, which must
accept the job and store what the manifest says. Under ``pytest --record-wire DIR`` every body
sent here lands in the corpus that conformance/test_bodies.py parses strictly.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path
from typing import Any

from google.auth.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st

from gitops_tune.apply import new_model
from gitops_tune.backends import backend
from gitops_tune.dataset.tuning_limits import table
from gitops_tune.emulator.server import EmulatorConfig, RunningEmulator, start
from gitops_tune.emulator.vertex.wire import KIND_JOB
from gitops_tune.providers.base import Owner
from gitops_tune.providers.vertex import VertexProvider
from tests.harness import dump_all
from tests.providers.properties import TEXT, budget, load_one

BUCKET = "prop-staging"
_text = TEXT
_examples = st.lists(
    st.fixed_dictionaries({"text_input": _text, "output": _text}), min_size=20, max_size=30
)
_LIMITS = table(backend("vertex").api.limits_table)
_SIZE_NAMES = {1: "ONE", 2: "TWO", 4: "FOUR", 8: "EIGHT", 16: "SIXTEEN", 32: "THIRTY_TWO"}


def _hyper(base: str) -> st.SearchStrategy[dict[str, Any]]:
    """Hyperparameters the manifest checks accept for ``base`` (its listed adapter sizes)."""
    model = _LIMITS.model(base) if _LIMITS is not None else None
    sizes = [f"ADAPTER_SIZE_{_SIZE_NAMES[n]}" for n in (model.adapter_sizes if model else ())]
    optional: dict[str, st.SearchStrategy[Any]] = {
        "epochCount": st.integers(1, 20),
        "learningRateMultiplier": st.floats(0.01, 10.0, allow_nan=False, allow_infinity=False),
    }
    if sizes:
        optional["adapterSize"] = st.sampled_from(sizes)
    return st.fixed_dictionaries({}, optional=optional)


_specs = st.sampled_from(("gemini-2.5-flash", "gemini-2.5-flash-lite")).flatmap(
    lambda base: st.fixed_dictionaries(
        {
            "baseModel": st.just(base),
            "dataset": _examples.map(lambda e: {"examples": e}),
            "hyperparameters": _hyper(base),
        },
        optional={
            "displayName": _text.map(lambda s: s[:40].strip() or "x"),
            "description": _text,
            "preamble": _text.map(lambda s: s + " "),
            "exportLastCheckpointOnly": st.booleans(),
            "serviceAccount": st.just("tuning@p.iam.gserviceaccount.com"),
        },
    )
)
_ids = itertools.count()


class _Token(Credentials):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "t"

    def refresh(self, request: Any) -> None:
        pass


def _write(root: Path, spec: dict[str, Any]) -> None:
    workspace = {
        "apiVersion": "gitops-tune/v1",
        "kind": "Workspace",
        "metadata": {"name": "prop"},
        "spec": {
            "backend": "vertex",
            "vertex": {
                "project": "p",
                "location": "us-central1",
                "stagingBucket": f"gs://{BUCKET}",
            },
        },
    }
    model = {"apiVersion": "gitops-tune/v1", "kind": "TunedModel", "metadata": {"name": "m"}}
    docs = [workspace, {**model, "spec": spec}]
    (root / "m.yaml").write_text(dump_all(docs), encoding="utf-8")


def _provider(running: RunningEmulator) -> VertexProvider:
    provider = VertexProvider(
        "p",
        "us-central1",
        f"gs://{BUCKET}",
        credentials=_Token(),
        base_url=running.url,
        storage_endpoint=running.url,
    )
    provider.staging.storage.create_bucket(BUCKET)
    return provider


def _stored_lines(running: RunningEmulator, uri: str) -> list[dict[str, Any]]:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    data = running.store.get_blob(bucket, name) or b""
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


@budget(20)
@given(spec=_specs)
def test_random_valid_manifests_make_jobs_vertex_accepts(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder, start(EmulatorConfig(port=0)) as running:
        root = Path(folder)
        _write(root, spec)
        desired = load_one(root, "vertex")
        owner = Owner("prop", desired.name, desired.fingerprint)
        new = new_model(desired, f"prop-{next(_ids)}", owner)
        created = _provider(running).create(new)
        assert created.owner == owner
        (doc,) = [d for _, d in running.store.docs(KIND_JOB, "p/us-central1/")]
        assert doc["base_model"] == spec["baseModel"]
        assert doc["display_name"] == desired.display_name
        assert doc["description"] == desired.description
        assert doc["service_account"] == spec.get("serviceAccount", "")
        assert doc["export_last_checkpoint_only"] == spec.get("exportLastCheckpointOnly", False)
        assert doc["example_count"] == len(spec["dataset"]["examples"])
        sent = desired.hyperparameters.fields()
        assert {k: doc["hyper"][k] for k in sent} == sent
        assert doc["hyper"]["adapterSize"] == spec["hyperparameters"].get(
            "adapterSize", "ADAPTER_SIZE_FOUR"
        )
        preamble = spec.get("preamble", "")
        turns = [line["contents"] for line in _stored_lines(running, doc["training_uri"])]
        assert [(t[0]["parts"][0]["text"], t[1]["parts"][0]["text"]) for t in turns] == [
            (preamble + e["text_input"], e["output"]) for e in spec["dataset"]["examples"]
        ]
