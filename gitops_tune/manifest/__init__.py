"""Manifests: finding the files, reading YAML with positions, validating documents.

The flow for one path argument: `discover` finds the ``*.yaml``/``*.yml`` files; `load_file`
parses each into `Document` values and validates them into `Parsed` (a pydantic model plus
the positions to point errors at). Datasets are not read here: `dataset_file` resolves a
``spec.dataset.path`` safely and `example_rows` / `inline_rows` turn inline examples into
rows for `gitops_tune.dataset`. `gitops_tune.desired.load` wires it all together.

- `files`: discovery, reading a file's documents, dataset paths and inline rows;
- `check`: validating documents into models or diagnostics;
- `models`: the pydantic models of a TunedModel (with `methods`, `stages`, `serving`) and
  the JSON Schema; `workspace`: the Workspace document; `messages`: pydantic errors as prose;
- `_yaml`: YAML with positions.

This face only re-exports.
"""

from gitops_tune.manifest._yaml import Document
from gitops_tune.manifest.check import Parsed, check_document, load_file
from gitops_tune.manifest.files import (
    ManifestFile,
    dataset_file,
    discover,
    example_rows,
    inline_rows,
    read_documents,
)
from gitops_tune.manifest.models import (
    API_VERSION,
    KINDS,
    TunedModelDocument,
)
from gitops_tune.manifest.schema import json_schema, schema_text
from gitops_tune.manifest.workspace import WorkspaceDocument

__all__ = [
    "API_VERSION",
    "KINDS",
    "Document",
    "ManifestFile",
    "Parsed",
    "TunedModelDocument",
    "WorkspaceDocument",
    "check_document",
    "dataset_file",
    "discover",
    "example_rows",
    "inline_rows",
    "json_schema",
    "load_file",
    "read_documents",
    "schema_text",
]
