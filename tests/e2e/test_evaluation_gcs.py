"""A ``gs://`` evaluation set: read through Cloud Storage on Vertex AI (the same row formats
as a local evaluation file, diagnostics naming gs://bucket/object:line); refused where the
backend takes no gs:// data."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from gitops_tune.emulator.server import RunningEmulator
from tests.e2e.conftest import BUCKET, Repo, repo_for
from tests.e2e.test_evaluation import HELD_OUT, served, tickets


def upload(repo: Repo, name: str, text: str) -> str:
    request = urllib.request.Request(
        f"{repo.url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={name}",
        data=text.encode(),
        method="POST",
    )
    urllib.request.urlopen(request).read()
    return f"gs://{BUCKET}/{name}"


def gated(repo: Repo, uri: str) -> None:
    evaluation = {"dataset": {"uri": uri}, "metric": "labelAccuracy", "minScore": 0.8}
    repo.write("alpha", dataset={"examples": tickets()}, evaluation=evaluation)


def test_a_gs_evaluation_set_is_read_on_vertex(tmp_path: Path, emulator: RunningEmulator) -> None:
    repo = repo_for("vertex", tmp_path, emulator)
    uri = upload(repo, "held/out.jsonl", "".join(json.dumps(r) + "\n" for r in HELD_OUT))
    gated(repo, uri)
    plan = repo.cli("plan")
    assert plan.exit_code == 0, plan.output
    assert f"labelAccuracy on {uri}, 4 examples" in plan.stdout
    result = repo.apply("--wait")
    assert result.exit_code == 0, result.output
    assert "1.0000 passed" in repo.cli("status").stdout
    first = served(repo)

    csv = "text_input,output\n" + "".join(f"{r['text_input']},{r['output']}\n" for r in HELD_OUT)
    gated(repo, upload(repo, "held/out.csv", csv))  # a CSV set: the same examples
    assert repo.apply("--wait").exit_code == 0
    assert served(repo) == first  # the set's key is its examples: already scored

    bad = upload(repo, "held/bad.jsonl", json.dumps(HELD_OUT[0]) + "\n{not json\n")
    gated(repo, bad)
    result = repo.cli("validate", str(repo.root))
    assert result.exit_code == 1
    assert f"{bad}:2:2: invalid JSON" in result.output, result.output
    gated(repo, f"gs://{BUCKET}/held/missing.jsonl")
    result = repo.cli("plan")
    assert result.exit_code == 1
    assert f"no such object: gs://{BUCKET}/held/missing.jsonl" in result.output
    assert "spec.evaluation.dataset.uri" in result.output


def test_a_gs_evaluation_set_is_refused_on_the_gemini_api(repo: Repo) -> None:
    if repo.vertex:
        return
    gated(repo, "gs://b/held.jsonl")
    result = repo.cli("validate", str(repo.root))
    assert result.exit_code == 1
    assert "spec.evaluation.dataset.uri" in result.output and "gs://" in result.output
