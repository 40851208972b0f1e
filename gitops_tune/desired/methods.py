"""``spec.method`` as the backend reads it: whether the backend and the base model offer the
method, the options it adds to a run, and its dataset (`gitops_tune.dataset.methods`).

Which base models offer which method comes from the backend's limits table
(`gitops_tune.dataset.tuning_limits`, ``methods:``), each list with the Google page it was
read on; a backend whose API runs supervised tuning only (the Gemini API) refuses any other
method. Supervised tuning, declared or not, changes nothing: same checks, same fingerprint.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from gitops_tune import manifest as mf
from gitops_tune.backends import Backend, Hyperparameters
from gitops_tune.dataset import Source
from gitops_tune.dataset import methods as data
from gitops_tune.dataset.tuning_limits import table
from gitops_tune.desired.sources import tuned
from gitops_tune.errors import Diagnostic
from gitops_tune.manifest.methods import PAGES, name_of, settings_of
from gitops_tune.providers.base import DatasetRef

#: Settings google-genai 3.6 does not send for a method (`_CreateTuningJobConfig_to_vertex`
#: maps ``export_last_checkpoint_only`` for supervised, preference and distillation only).
_NOT_SENT = {"reinforcement": ("exportLastCheckpointOnly",)}


def method_of(item: mf.Parsed) -> tuple[str, str]:
    """(the method's name, or "" for supervised; its settings as canonical JSON)."""
    method = tuned(item).spec.method
    name = name_of(method)
    settings = json.dumps(settings_of(method), sort_keys=True, separators=(",", ":"))
    return ("" if name == "supervised" else name), settings


def problems(item: mf.Parsed, backend: Backend) -> list[Diagnostic]:
    """The method where the backend or the base model does not offer it, and settings that
    do not go with it; one diagnostic each, at the key to change."""
    name, _ = method_of(item)
    if not name:
        return []
    doc, spec = item.document, tuned(item).spec
    here = ("spec", "method", name)
    if name not in backend.api.methods:
        offered = ", ".join(backend.api.methods)
        why = f"{name} tuning does not apply to backend {backend.label}: {backend.api.title} "
        return [Diagnostic(why + f"runs {offered} tuning only", doc.locate(here), "spec.method")]
    found = table(backend.api.limits_table)
    offered_to = found.methods.get(name, ()) if found is not None else ()
    out = []
    if offered_to and spec.baseModel not in offered_to:
        out.append(
            Diagnostic(
                f"{spec.baseModel} is not offered {name} tuning; {backend.api.title} offers it "
                f"for {', '.join(offered_to)} ({PAGES[name]})",
                doc.locate(("spec", "baseModel")),
                "spec.baseModel",
            )
        )
    out += _teacher(item, found.methods.get("distillation_teachers", ()) if found else ())
    out += [
        Diagnostic(
            f"{key} does not apply to {name} tuning (google-genai sends it for the other methods)",
            doc.locate(("spec", key)),
            f"spec.{key}",
        )
        for key in _NOT_SENT.get(name, ())
        if key in spec.model_fields_set
    ]
    if spec.preamble:
        out.append(
            Diagnostic(
                f"preamble applies to supervised tuning; a {name} dataset carries each "
                "prompt whole (put shared instructions in its rows' systemInstruction)",
                doc.locate(("spec", "preamble")),
                "spec.preamble",
            )
        )
    return out


def _teacher(item: mf.Parsed, teachers: tuple[str, ...]) -> list[Diagnostic]:
    method = tuned(item).spec.method
    chosen = method.distillation if method is not None else None
    if chosen is None or chosen.baseTeacherModel is None or not teachers:
        return []
    if chosen.baseTeacherModel in teachers:
        return []
    path = ("spec", "method", "distillation", "baseTeacherModel")
    return [
        Diagnostic(
            f"{chosen.baseTeacherModel} is not offered as a distillation teacher; Vertex AI "
            f"offers {', '.join(teachers)} ({PAGES['distillation']})",
            item.document.locate(path),
            "spec.method.distillation.baseTeacherModel",
        )
    ]


@dataclass(frozen=True)
class MethodData:
    """A method's dataset, read once: what the DesiredModel needs of it."""

    fingerprint: str
    count: int
    ref: DatasetRef


def read(
    item: mf.Parsed, key: str, source: Source, hp: Hyperparameters, staged: bool
) -> MethodData | list[Diagnostic]:
    """``spec.<key>`` as rows of the method's dataset: checked, counted, fingerprinted."""
    name, _ = method_of(item)
    base = tuned(item).spec.baseModel
    result = data.scan(source, name, base, hp.fields())
    if result.errors:
        return list(result.errors)
    if result.count == 0:
        where = item.document.locate(("spec", key))
        return [Diagnostic(f"no {name} examples", where, f"spec.{key}")]
    examples = functools.partial(data.stream, source, name, base, hp.fields(), result.fingerprint)
    ref = DatasetRef(result.fingerprint, examples=examples if staged else None)
    return MethodData(result.fingerprint, result.count, ref)
