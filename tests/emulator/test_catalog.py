"""Base-model catalogs (`emulator.gemini.catalog`, ``emulator/catalogs/*.json``): the
documented models, what Google serves now, and catalog files of one's own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_tune.cli import main
from gitops_tune.emulator.gemini.catalog import CATALOGS, CatalogError, load
from gitops_tune.emulator.server import EmulatorConfig, start
from tests.emulator.emu_helpers import Api, assert_error
from tests.harness import examples, write_manifest

DOCUMENTED_BASE = "models/gemini-1.5-flash-001-tuning"


@pytest.mark.parametrize("name", CATALOGS)
def test_shipped_catalogs_name_dated_sources(name: str) -> None:
    catalog = load(name)
    assert catalog.name == name and catalog.gemini and catalog.vertex_tunable
    for source in catalog.sources:
        assert source["url"].startswith("https://")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["checked"])


def test_documented_tunes_what_the_tuning_docs_tune() -> None:
    catalog = load("documented")
    assert [m.name for m in catalog.gemini if m.tunable] == [DOCUMENTED_BASE]
    assert "gemini-2.5-flash" in catalog.vertex_tunable


def test_current_has_no_tunable_gemini_api_model() -> None:
    catalog = load("current")
    assert not [m.name for m in catalog.gemini if m.tunable]
    for name in ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"):
        assert name in catalog.vertex_tunable


def publisher_status(api: Api, name: str) -> int:
    """The Vertex AI dialect's answer for a publisher model (any bearer token will do)."""
    path = f"/v1/publishers/google/models/{name}"
    return api.raw("GET", path, headers={"authorization": "Bearer t"}).status_code


def test_the_emulator_serves_its_catalog() -> None:
    with start(EmulatorConfig(port=0, catalog="current")) as running:
        api = Api(running.url)
        listed = api.call("GET", "/v1beta/models").json()["models"]
        assert listed and all(
            "createTunedModel" not in m["supportedGenerationMethods"] for m in listed
        )
        assert_error(api.call("GET", f"/v1beta/{DOCUMENTED_BASE}"), 404, "NOT_FOUND")
        assert_error(api.create(), 400, "INVALID_ARGUMENT")
        assert publisher_status(api, "gemini-3.5-flash") == 200
    with start(EmulatorConfig(port=0)) as running:  # documented: the default
        api = Api(running.url)
        assert api.create().status_code == 200
        assert publisher_status(api, "gemini-3.5-flash") == 404


def test_a_catalog_file_of_ones_own(tmp_path: Path) -> None:
    doc = json.loads(
        json.dumps(
            {
                "catalog": "mine",
                "sources": [{"title": "t", "url": "https://example.test", "checked": "2026-01-01"}],
                "gemini": [
                    {"name": "models/my-base", "supportedGenerationMethods": ["createTunedModel"]}
                ],
                "vertex": {"supervisedTuning": ["my-vertex-base"]},
            }
        )
    )
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(doc))
    with start(EmulatorConfig(port=0, catalog=str(path))) as running:
        api = Api(running.url)
        assert api.create(baseModel="models/my-base").status_code == 200
        assert_error(api.create(), 400, "INVALID_ARGUMENT")  # the documented base is not there


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "mine.json:1: invalid JSON"),
        ('{"gemini": []}', "not a base-model catalog"),
        ('{"sources": [{"url": "https://x"}], "gemini": []}', "the date it was checked"),
        ('{"sources": [{"url": "u", "checked": "d"}], "gemini": [{"name": "x"}]}', "models/"),
    ],
)
def test_a_bad_catalog_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.json"
    path.write_text(text)
    with pytest.raises(CatalogError, match=re.escape(message)):
        load(str(path))


def test_the_command_refuses_an_unknown_catalog() -> None:
    result = CliRunner().invoke(main, ["emulator", "--catalog", "newest", "--port", "0"])
    assert result.exit_code == 1
    assert "--catalog 'newest': neither documented nor current nor a catalog file" in (
        result.stderr
    )


def test_plan_against_current_says_why_and_shows_the_vertex_spelling(tmp_path: Path) -> None:
    spec = {"baseModel": DOCUMENTED_BASE, "dataset": {"examples": examples(100)}}
    write_manifest(tmp_path, "alpha", spec)
    with start(EmulatorConfig(port=0, catalog="current")) as running:
        env = {
            "GOOGLE_GEMINI_BASE_URL": running.url,
            "GEMINI_API_KEY": "k",
            "GOOGLE_API_KEY": None,
            "GITOPS_TUNE_BACKEND": "gemini",
            "GITOPS_TUNE_RETRY_BASE_SECONDS": "0.01",
            "NO_COLOR": "1",
        }
        result = CliRunner().invoke(main, ["plan", str(tmp_path)], env=env)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert f"base model {DOCUMENTED_BASE} not found" in line
    assert "Google stopped Gemini API tuning" in line and "baseModel: gemini-2.5-flash" in line
    assert "alpha.yaml" in line
