"""Shared fixtures. `tree`: a manifest directory in a temp folder, which is also the cwd."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_tune.emulator.recording import record_all


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-wire",
        metavar="DIR",
        default=None,
        help="record every exchange of every emulator the tests start into DIR (JSON lines) "
        "for the conformance suite (conformance/README.md); write it as --record-wire=DIR, "
        "so that pytest does not take DIR for a test path",
    )


def pytest_configure(config: pytest.Config) -> None:
    folder = config.getoption("--record-wire")
    if folder:
        record_all(folder)


class Tree:
    """Write manifests and data files under ``root`` (the current directory in the test)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, content: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def jsonl(self, relative: str, rows: list[dict[str, Any]]) -> Path:
        return self.write(relative, "".join(json.dumps(r) + "\n" for r in rows))


def rows(n: int = 20, tag: str = "") -> list[dict[str, str]]:
    return [{"text_input": f"{tag}{i}", "output": f"{tag}{i + 1}"} for i in range(n)]


def tuned_model(
    name: str = "m",
    *,
    examples: int | None = 20,
    path: str | None = None,
    extra_spec: str = "",
) -> str:
    """A valid TunedModel document (inline examples unless ``path``); ``extra_spec`` is
    appended under ``spec:`` (2-space indented lines)."""
    if path is not None:
        dataset = f"  dataset:\n    path: {path}\n"
    else:
        items = "".join(
            f'      - {{text_input: "{r["text_input"]}", output: "{r["output"]}"}}\n'
            for r in rows(examples or 0)
        )
        dataset = "  dataset:\n    examples:\n" + (items or "      []\n")
    return (
        "apiVersion: gitops-tune/v1\n"
        "kind: TunedModel\n"
        "metadata:\n"
        f"  name: {name}\n"
        "spec:\n"
        "  baseModel: models/gemini-1.5-flash-001-tuning\n" + extra_spec + dataset
    )


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tree:
    monkeypatch.chdir(tmp_path)
    return Tree(tmp_path)
