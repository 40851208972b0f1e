"""Where a TunedModel document's data comes from: a file beside it, or inline examples."""

from __future__ import annotations

import functools
from typing import Any

from gitops_tune import dataset as ds
from gitops_tune import manifest as mf
from gitops_tune.errors import Diagnostic


def tuned(item: mf.Parsed) -> mf.TunedModelDocument:
    assert isinstance(item.model, mf.TunedModelDocument)
    return item.model


def source_of(
    item: mf.Parsed, key: str, preamble: str
) -> tuple[ds.Source, ds.Source, str] | Diagnostic:
    """(source, first-pass source, shown) of ``spec.<key>`` read from a file or inline."""
    doc = item.document
    data: Any = tuned(item).spec
    for part in key.split("."):  # "dataset", "validation" or "evaluation.dataset"
        data = getattr(data, part)
    if data.path is not None:
        try:
            path, display = mf.dataset_file(item.file, data.path)
        except ValueError as e:
            where = doc.locate(("spec", *key.split("."), "path"))
            return Diagnostic(str(e), where, f"spec.{key}.path")
        source = ds.file_source(
            path,
            display,
            input_field=data.inputField,
            output_field=data.outputField,
            preamble=preamble,
        )
        return source, source, display
    reread = functools.partial(mf.inline_rows, item.file, doc.index, key)
    source = ds.inline_source(reread, item.file.display, preamble=preamble)
    first_pass = ds.inline_source(
        functools.partial(mf.example_rows, doc, key), item.file.display, preamble=preamble
    )
    return source, first_pass, f"{item.file.display} (inline)"
