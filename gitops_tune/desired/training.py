"""A TunedModel's training options and serving checkpoint, as its backend reads them.

The keys (``preTunedModel``, ``exportLastCheckpointOnly``, ``serviceAccount``,
``encryptionSpec``, ``serving``) are accepted where the backend's API lists them
(`backends.Api.training_fields`) and refused elsewhere, each at its own key. What changes the
model a run makes joins the fingerprint (only when set, so other manifests keep theirs);
``serviceAccount`` and ``serving`` do not: the first only runs the job, the second is switched
in place.
"""

from __future__ import annotations

import hashlib
import json

from gitops_tune import manifest as mf
from gitops_tune.backends import Backend, Hyperparameters
from gitops_tune.desired.methods import method_of
from gitops_tune.errors import Diagnostic
from gitops_tune.manifest.models import TunedModelSpec
from gitops_tune.providers.base import TrainingOptions
from gitops_tune.providers.tuning_evaluation import TuningEvaluation


def training_options(
    item: mf.Parsed, backend: Backend, hp: Hyperparameters
) -> tuple[TrainingOptions, str, list[Diagnostic]]:
    """(options, serving checkpoint: "last", an epoch number or "", problems)."""
    assert isinstance(item.model, mf.TunedModelDocument)
    spec, doc = item.model.spec, item.document
    written = {_WRITTEN.get(k, k) for k in spec.model_fields_set}
    given = [k for k in backend.api.training_fields + _ALL if k in written]
    refused = [k for k in dict.fromkeys(given) if k not in backend.api.training_fields]
    if refused:
        return TrainingOptions(), "", [_not_here(item, backend, k) for k in refused]
    name, checkpoint = _pre_tuned(item.model)
    evaluation = _during_tuning(item, backend)
    if isinstance(evaluation, Diagnostic):
        return TrainingOptions(), "", [evaluation]
    method, method_settings = method_of(item)
    options = TrainingOptions(
        pre_tuned_model=name,
        pre_tuned_checkpoint=checkpoint,
        export_last_checkpoint_only=bool(spec.exportLastCheckpointOnly),
        service_account=spec.serviceAccount or "",
        kms_key_name=spec.encryptionSpec.kmsKeyName if spec.encryptionSpec else "",
        method=method,
        method_settings=method_settings,
        evaluation=evaluation,
    )
    serving = str(spec.serving.checkpoint) if spec.serving is not None else ""
    epochs = hp.epochs
    problem = _best_problem(spec) if serving == "best" else ""
    if serving.isdigit() and int(serving) > epochs:
        problem = f"epoch {serving} is beyond epochCount {epochs}"
    elif serving.isdigit() and options.export_last_checkpoint_only and int(serving) < epochs:
        problem = f"epoch {serving} has no checkpoint: exportLastCheckpointOnly keeps the last only"
    if problem:
        where = doc.locate(("spec", "serving", "checkpoint"))
        return options, serving, [Diagnostic(problem, where, "spec.serving.checkpoint")]
    return options, serving, []


def _best_problem(spec: TunedModelSpec) -> str:
    """Why ``best`` cannot be used here ("" when it can): it is the checkpoint that scores
    highest on the model's own held-out set, and Vertex AI reports no loss per checkpoint."""
    if spec.evaluation is None:
        return (
            "best needs spec.evaluation: Vertex AI reports no loss per checkpoint to choose by, "
            "so best means the checkpoint that scores highest on the model's held-out set; "
            "declare spec.evaluation, or name an epoch or last"
        )
    if spec.exportLastCheckpointOnly:
        return "best needs every checkpoint: exportLastCheckpointOnly keeps the last only"
    return ""


_ALL = (
    "preTunedModel",
    "from",
    "exportLastCheckpointOnly",
    "serviceAccount",
    "encryptionSpec",
    "serving",
)
_WRITTEN = {"from_": "from"}  # pydantic's field name -> the key as written


def _pre_tuned(model: mf.TunedModelDocument) -> tuple[str, str]:
    """(tuned Model, checkpoint ID) a model outside the workspace continues from: ``spec.from``
    with ``tunedModel``, or its earlier spelling ``spec.preTunedModel`` (the same options, so
    the same fingerprint). A workspace parent (``from.model``) is known at apply only."""
    pre, stage = model.spec.preTunedModel, model.spec.from_
    if pre is not None:
        return pre.tunedModelName, pre.checkpointId or ""
    if stage is not None and stage.tunedModel is not None:
        return stage.tunedModel, stage.checkpointId or ""
    return "", ""


def _during_tuning(item: mf.Parsed, backend: Backend) -> TuningEvaluation | Diagnostic | None:
    """``spec.evaluation.duringTuning``: where the backend's tuning jobs evaluate themselves,
    on the job's validation examples (Vertex AI's ``EvaluationConfig`` names no data of its
    own), so ``spec.validation`` must be given."""
    assert isinstance(item.model, mf.TunedModelDocument)
    spec = item.model.spec
    during = spec.evaluation.duringTuning if spec.evaluation is not None else None
    if during is None:
        return None
    key = ("spec", "evaluation", "duringTuning")
    problem = ""
    if not backend.api.tuning_evaluation:
        problem = (
            f"duringTuning does not apply to backend {backend.label}: {backend.api.title} "
            "tuning jobs do not evaluate themselves (Vertex AI's evaluationConfig)"
        )
    elif spec.validation is None:
        problem = (
            "duringTuning needs spec.validation: Vertex AI evaluates a tuning job on its "
            "validation examples"
        )
    elif method_of(item)[0]:
        problem = "duringTuning is sent with supervised tuning only (supervisedTuningSpec)"
    if problem:
        return Diagnostic(problem, item.document.locate(key), "spec.evaluation.duringTuning")
    return TuningEvaluation(tuple(during.metrics), during.outputUri)


def _not_here(item: mf.Parsed, backend: Backend, key: str) -> Diagnostic:
    why = backend.api.training_refusals.get(key) or f"{backend.api.title} has no such setting"
    return Diagnostic(
        f"{key} does not apply to backend {backend.label}: {why}",
        item.document.locate(("spec", key)),
        f"spec.{key}",
    )


def with_options(fingerprint: str, options: TrainingOptions) -> str:
    """The model's fingerprint with the options that change what a run makes; unchanged when
    none is set."""
    fields = options.fields()
    if not fields:
        return fingerprint
    line = json.dumps({"data": fingerprint, "training": fields}, sort_keys=True)
    return hashlib.sha256((line + "\n").encode()).hexdigest()
