"""``spec.evaluation``: the held-out set a new model must score on before it serves."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops_tune import dataset as ds
from gitops_tune import manifest as mf
from gitops_tune.backends import Backend, Hyperparameters
from gitops_tune.dataset import Record
from gitops_tune.desired import limits
from gitops_tune.desired.downloads import kept
from gitops_tune.desired.sources import source_of, tuned
from gitops_tune.desired.state import RemoteObjects, RemoteRead
from gitops_tune.errors import Diagnostic
from gitops_tune.evaluation import EvaluationSpec, Normalization


@dataclass(frozen=True)
class Remote:
    """What an evaluation set may need of Cloud Storage: the set itself (``read``, kept under
    ``home``) and its media objects (``objects``)."""

    read: RemoteRead | None = None
    home: Path | None = None
    objects: RemoteObjects | None = None


def evaluation_of(
    item: mf.Parsed,
    scans: ds.Scans,
    hp: Hyperparameters,
    backend: Backend,
    remote: Remote = Remote(),
) -> EvaluationSpec | list[Diagnostic] | None:
    """``spec.evaluation``: its held-out set read once and checked like training rows (and,
    for ``regex``, every output compiled). Its rows are pairs or chat examples (the
    conversation up to its last model turn is asked; that turn's text is expected), checked
    against what the backend's tuned models take (`limits.evaluation_chat_rules`); the
    objects of their ``fileData`` parts are looked up like training media, and their
    generations are part of the set's fingerprint. A ``gs://`` set (where the backend takes
    ``gs://`` data, checked by `resolve`) is read whole through ``remote.read`` into
    ``remote.home``/evaluation and then read like a local file of the same format;
    diagnostics name ``gs://bucket/object``."""
    doc, spec = item.document, tuned(item).spec
    e = spec.evaluation
    if e is None:
        return None
    if e.dataset.uri is not None:
        found = _remote_source(item, e.dataset.uri, remote.read, remote.home)
    else:
        found = source_of(item, "evaluation.dataset", spec.preamble)
    if isinstance(found, Diagnostic):
        return [found]
    source, first_pass, shown = found
    result = scans.scan(first_pass, spec.baseModel, hp.fields())
    if result.errors:
        return list(result.errors)
    where = doc.locate(("spec", "evaluation", "dataset"))
    if result.count == 0:
        return [Diagnostic("no evaluation examples", where, "spec.evaluation.dataset")]
    problems = limits.evaluation_chat_rules(item, result, backend, first_pass.rows())
    seen: list[tuple[str, Mapping[str, str]]] = []
    if not problems and result.media:
        seen, problems = limits.media_objects(result, backend, remote.objects)
    if problems:
        return problems
    examples = functools.partial(ds.stream, source, spec.baseModel, hp.fields(), result.fingerprint)
    if e.metric == "regex":
        bad = _bad_pattern(examples, shown)
        if bad:
            return [Diagnostic(bad, where, "spec.evaluation.dataset")]
    n = e.normalize
    return EvaluationSpec(
        metric=e.metric,
        normalization=Normalization(n.ignoreCase, n.collapseWhitespace, n.stripPunctuation),
        min_score=e.minScore,
        no_regression=e.noRegression,
        tolerance=e.tolerance,
        data_fingerprint=limits.with_media(result.fingerprint, seen),
        count=result.count,
        shown=shown,
        examples=examples,
        per_checkpoint=spec.serving is not None and spec.serving.checkpoint == "best",
    )


def _remote_source(
    item: mf.Parsed, uri: str, read: RemoteRead | None, home: Path | None
) -> tuple[ds.Source, ds.Source, str] | Diagnostic:
    """A ``gs://`` evaluation set, downloaded to a content-addressed file whose suffix keeps
    the object's format (``.jsonl``, ``.json``, ``.csv``)."""
    where = item.document.locate(("spec", "evaluation", "dataset", "uri"))
    field = "spec.evaluation.dataset.uri"
    if read is None or home is None:
        return Diagnostic(f"cannot read {uri}: no storage client", where, field)
    path = kept(uri, read, home / "evaluation")
    if isinstance(path, str):
        return Diagnostic(path, where, field)
    e = tuned(item).spec.evaluation
    assert e is not None
    source = ds.file_source(
        str(path),
        uri,
        input_field=e.dataset.inputField,
        output_field=e.dataset.outputField,
        preamble=tuned(item).spec.preamble,
    )
    return source, source, uri


def _bad_pattern(examples: Callable[[], Iterator[Record]], shown: str) -> str:
    for i, example in enumerate(examples(), 1):
        try:
            re.compile(example.output)
        except re.error as err:
            return (
                f"{shown} example {i}: output {example.output!r} is not a regular expression: {err}"
            )
    return ""
