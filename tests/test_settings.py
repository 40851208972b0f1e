"""settings.py: flags, then environment, then the Workspace document, then defaults, read
once; no module below the command line reads the environment itself."""

from __future__ import annotations

import ast

import pytest

from gitops_tune.errors import Location, UserError
from gitops_tune.settings import Invocation, VertexTarget, WorkspaceDoc
from tests import ROOT

PACKAGE = ROOT / "gitops_tune"
DOC = WorkspaceDoc(
    "from-doc", "vertex", Location("w.yaml", 3, 9), VertexTarget("p", None, "gs://b"), None
)


def test_precedence_flag_env_document_default() -> None:
    env = {"GITOPS_TUNE_WORKSPACE": "from-env", "GITOPS_TUNE_BACKEND": "local"}
    assert Invocation().settle().workspace == "default"
    assert Invocation().settle().backend.name == "gemini"
    assert Invocation().settle(DOC).workspace == "from-doc"
    assert Invocation(env=env).settle(DOC).workspace == "from-env"
    assert Invocation(env=env).settle(DOC).backend.name == "local"
    assert Invocation("flag", "gemini", env).settle(DOC).workspace == "flag"
    assert Invocation("flag", "gemini", env).settle(DOC).backend.name == "gemini"
    saved = Invocation(env=env).or_else("saved", "vertex")
    assert (saved.settle().workspace, saved.settle().backend.name) == ("saved", "vertex")


def test_vertex_target_from_document_then_environment() -> None:
    env = {"GOOGLE_CLOUD_PROJECT": "env-p", "GOOGLE_CLOUD_LOCATION": "europe-west4"}
    assert Invocation(env=env).settle(DOC).vertex == VertexTarget("p", "europe-west4", "gs://b")
    bucket = {"GITOPS_TUNE_STAGING_BUCKET": "gs://env"}
    assert Invocation(env=bucket).settle().vertex.staging_bucket == "gs://env"


def test_tuning_knobs_from_the_environment() -> None:
    env = {
        "GITOPS_TUNE_HOME": "/tmp/x",
        "GITOPS_TUNE_FINGERPRINT_CACHE": "0",
        "GITOPS_TUNE_RETRY_ATTEMPTS": "3",
        "GITOPS_TUNE_POLL_SECONDS": "0.5",
        "GITOPS_TUNE_LOCAL_DIALECT": "vertex",
    }
    s = Invocation("ws", "local", env).settle()
    assert (str(s.home), s.fingerprint_cache, s.retry.attempts, s.poll_s) == (
        "/tmp/x",
        False,
        3,
        0.5,
    )
    assert s.backend.label == "local (vertex dialect)"


@pytest.mark.parametrize(
    ("invocation", "message"),
    [
        (Invocation(backend="aws"), "backend 'aws': must be one of local, gemini, vertex"),
        (Invocation(workspace="Bad_Name"), "workspace 'Bad_Name': must match"),
        (
            Invocation(backend="local", env={"GITOPS_TUNE_LOCAL_DIALECT": "grpc"}),
            "GITOPS_TUNE_LOCAL_DIALECT 'grpc': must be one of gemini, vertex",
        ),
        (
            Invocation(env={"GITOPS_TUNE_POLL_SECONDS": "soon"}),
            "GITOPS_TUNE_POLL_SECONDS 'soon': must be a number",
        ),
    ],
)
def test_bad_values_are_one_line_errors(invocation: Invocation, message: str) -> None:
    with pytest.raises(UserError, match=message):
        invocation.settle()


def test_early_settings_only_when_flags_settle_a_backend_that_needs_no_document() -> None:
    assert Invocation("ws", "gemini").settled_by_flags() is not None
    assert Invocation("ws", "vertex").settled_by_flags() is None  # needs spec.vertex
    assert Invocation(None, "gemini").settled_by_flags() is None
    where = {
        "GOOGLE_CLOUD_PROJECT": "p",
        "GOOGLE_CLOUD_LOCATION": "us-central1",
        "GITOPS_TUNE_STAGING_BUCKET": "gs://b",
    }
    found = Invocation("ws", "vertex", where).settled_by_flags()
    assert found is not None and found.vertex == VertexTarget("p", "us-central1", "gs://b")
    for name in where:  # each of the three is needed
        partial = {k: v for k, v in where.items() if k != name}
        assert Invocation("ws", "vertex", partial).settled_by_flags() is None


def test_only_settings_and_the_command_line_read_the_environment() -> None:
    allowed = {"settings.py"}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if path.name in allowed or rel.parts[0] in ("cli", "commands", "emulator"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
