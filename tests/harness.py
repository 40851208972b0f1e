"""Helpers the end-to-end and reliability harnesses share: raw REST and manifest files."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import yaml

SOMEONE_ELSE = {"x-goog-api-key": "someone-else"}  # a caller that is not gitops-tune


class ManifestDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting what the manifest reader reads as a number: it also takes
    YAML 1.2's exponent floats without a dot (``0E0``, ``1e-3``), which PyYAML writes plain."""


ManifestDumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+\Z"),
    list("-+0123456789."),
)


def dump_all(docs: list[dict[str, Any]]) -> str:
    """YAML documents as the manifest reader reads them back."""
    return yaml.dump_all(docs, Dumper=ManifestDumper, sort_keys=False)


def request_json(
    url: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """One raw JSON request to the emulator (``path`` without the leading slash)."""
    request = urllib.request.Request(
        f"{url}/{path.lstrip('/')}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def all_models(url: str) -> list[dict[str, Any]]:
    """Every tuned model on the Gemini dialect, read with raw REST as someone else."""
    page = request_json(url, "GET", "v1beta/tunedModels?pageSize=1000", headers=SOMEONE_ELSE)
    models: list[dict[str, Any]] = page.get("tunedModels", [])
    return models


def examples(n: int = 20, tag: str = "") -> list[dict[str, str]]:
    return [{"text_input": f"{tag}{i}", "output": f"{tag}{i + 1}"} for i in range(n)]


def write_manifest(root: Path, name: str, spec: dict[str, Any]) -> Path:
    """``root/NAME.yaml``: one TunedModel document with ``spec``."""
    doc = {
        "apiVersion": "gitops-tune/v1",
        "kind": "TunedModel",
        "metadata": {"name": name},
        "spec": spec,
    }
    path = root / f"{name}.yaml"
    path.write_text(dump_all([doc]), encoding="utf-8")
    return path
