"""The Vertex provider's pure parts: the ownership marker as labels, the supervised-tuning
JSONL, and a tuning job plus its tuned Model as a ``RemoteModel`` (or as nothing, when the job
is dead). See ``vertex`` for the identity and ownership scheme.

Everything here reads what Google's resources say, nothing else: the job's labels (immutable,
set at create), and the tuned Model's display name, description, labels and deployments (the
Model is patched with ``models.patch``). A job's labels also label the Model and Endpoint it
produces (``TuningJob.labels`` in tuning_job.proto: "labels ... to organize TuningJob and
generated resources such as Model and Endpoint").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gitops_tune.dataset import Conversation, Record
from gitops_tune.providers.base import VERDICTS, Owner, RemoteModel, Retirement, Scores, State
from gitops_tune.providers.tuning_job import TuningJob

PREFIX = "gitops_tune_"
L_WORKSPACE, L_NAME, L_ID = f"{PREFIX}workspace", f"{PREFIX}name", f"{PREFIX}id"
L_FP1, L_FP2, L_PROTECT = f"{PREFIX}fp1", f"{PREFIX}fp2", f"{PREFIX}protect"
L_RETIRED = f"{PREFIX}retired"  # on a Model Vertex AI refused to delete: it is not ours to serve
L_REFUSED = f"{PREFIX}delete_refused"  # with it: the HTTP status of the refusal ("refused": none)
L_UPDATED = f"{PREFIX}updated"  # microseconds since the epoch of our last update or restore
L_JOB = f"{PREFIX}job"  # on an imported Model: the ID of the tuning job that made it
L_SCHEMA = f"{PREFIX}schema"  # "2": the job keeps no facts in a staging-bucket index
#: The last evaluation, on the Model: verdict, score in ten-thousandths, and which evaluation.
L_EVAL, L_SCORE, L_EVAL_KEY = f"{PREFIX}eval", f"{PREFIX}score", f"{PREFIX}eval_key"
#: serving.checkpoint best: the epoch chosen, and each checkpoint's score (``ckpt_<epoch>``)
L_BEST, L_CKPT = f"{PREFIX}best", f"{PREFIX}ckpt_"
SCHEMA = "2"

SUCCEEDED = "JOB_STATE_SUCCEEDED"
CANCELLED = "JOB_STATE_CANCELLED"
CANCELLING = "JOB_STATE_CANCELLING"
#: JobState names (job_state.proto) a tuning job ends in without serving.
ENDED_BADLY = frozenset(
    {"JOB_STATE_FAILED", CANCELLED, "JOB_STATE_EXPIRED", "JOB_STATE_PARTIALLY_SUCCEEDED"}
)


@dataclass(frozen=True)
class TunedModelInfo:
    """A tuned ``Model`` as ``models.list`` shows it (model.proto)."""

    name: str  # without "@version"
    display_name: str
    description: str
    labels: Mapping[str, str]
    endpoints: frozenset[str]  # where it is deployed (``deployedModels[].endpoint``)
    update_time: str
    default_checkpoint: str = ""  # ``defaultCheckpointId``: the checkpoint its endpoint serves

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TunedModelInfo:
        return cls(
            name=str(doc.get("name", "")).split("@", 1)[0],
            display_name=str(doc.get("displayName", "")),
            description=str(doc.get("description", "")),
            labels=dict(doc.get("labels") or {}),
            endpoints=frozenset(
                str(d.get("endpoint", "")) for d in doc.get("deployedModels") or []
            ),
            update_time=str(doc.get("updateTime", "")),
            default_checkpoint=str(doc.get("defaultCheckpointId", "")),
        )

    @property
    def retired(self) -> bool:
        return self.labels.get(L_RETIRED) == "true"


def labels_for(owner: Owner, model_id: str) -> dict[str, str]:
    """The ownership marker as Google Cloud labels (values at most 63 characters)."""
    return {
        L_WORKSPACE: owner.workspace,
        L_NAME: owner.name,
        L_ID: model_id,
        L_FP1: owner.fingerprint[:32],
        L_FP2: owner.fingerprint[32:],
        L_PROTECT: "true" if owner.prevent_destroy else "false",
        L_SCHEMA: SCHEMA,
    }


def owner_from(values: Mapping[str, str]) -> Owner | None:
    """Labels -> the owner; malformed: None."""
    ws, name = values.get(L_WORKSPACE, ""), values.get(L_NAME, "")
    fp = values.get(L_FP1, "") + values.get(L_FP2, "")
    if not ws or not name or len(fp) != 64 or any(c not in "0123456789abcdef" for c in fp):
        return None
    return Owner(ws, name, fp, values.get(L_PROTECT) == "true")


def score_labels(scores: Scores) -> dict[str, str]:
    """An evaluation outcome as labels (values: lowercase letters, digits, '-' and '_')."""
    each = {f"{L_CKPT}{e}": str(round(s * 10_000)) for e, s in scores.checkpoints}
    return {
        L_EVAL: scores.verdict,
        L_SCORE: str(round(scores.score * 10_000)),
        L_EVAL_KEY: scores.key,
        **({L_BEST: str(scores.best)} | each if scores.best else {}),
    }


def without_scores(labels: Mapping[str, str]) -> dict[str, str]:
    """``labels`` without an earlier evaluation's checkpoint scores (a new one replaces them)."""
    return {k: v for k, v in labels.items() if not k.startswith(L_CKPT) and k != L_BEST}


def scores_from(values: Mapping[str, str]) -> Scores | None:
    verdict, raw, key = values.get(L_EVAL, ""), values.get(L_SCORE, ""), values.get(L_EVAL_KEY, "")
    if verdict not in VERDICTS or not raw.isdigit() or int(raw) > 10_000 or len(key) != 12:
        return None
    each = sorted(
        (int(k.removeprefix(L_CKPT)), int(v) / 10_000)
        for k, v in values.items()
        if k.startswith(L_CKPT) and k.removeprefix(L_CKPT).isdigit() and v.isdigit()
    )
    best = values.get(L_BEST, "")
    if not best.isdigit() or int(best) not in dict(each):
        return Scores(key, int(raw) / 10_000, verdict)
    return Scores(key, int(raw) / 10_000, verdict, tuple(each), int(best))


def to_jsonl(examples: Iterable[Record]) -> bytes:
    """`jsonl_lines`, joined."""
    return b"".join(jsonl_lines(examples))


def jsonl_lines(examples: Iterable[Record]) -> Iterator[bytes]:
    """Examples -> the Vertex supervised-tuning JSONL, one encoded line (with its newline) at
    a time: a chat example is its canonical line; a pair is one user turn and one model turn,
    the preamble already prepended to the user turn's text (as the Gemini API sends it, so a
    pair's fingerprint and its training are the same on both APIs)."""
    for e in examples:
        if isinstance(e, Conversation):
            yield (e.line + "\n").encode("utf-8")
            continue
        row = {
            "contents": [
                {"role": "user", "parts": [{"text": e.text_input}]},
                {"role": "model", "parts": [{"text": e.output}]},
            ]
        }
        yield (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def job_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def model_name(job: TuningJob) -> str:
    """The job's tuned Model without ``@version`` ("" when it made none)."""
    return job.tuned_model.split("@", 1)[0]


def now_label() -> str:
    """`L_UPDATED`'s value for now (label values allow digits only, no ':' or '.')."""
    return str(int(datetime.now(timezone.utc).timestamp() * 1_000_000))


def _label_time(value: str) -> str:
    try:
        micros = int(value)
    except ValueError:
        return ""
    return datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc).isoformat(
        timespec="microseconds"
    )


def _iso(text: str) -> str:
    try:
        return (
            datetime.fromisoformat(text.replace("Z", "+00:00"))
            .astimezone(timezone.utc)
            .isoformat(timespec="microseconds")
        )
    except ValueError:
        return ""


def _update_time(job: TuningJob, model: TunedModelInfo | None) -> str:
    """The latest of the job's update time, the Model's, and our own update marker."""
    times = []
    if job.update_time is not None:
        times.append(job.update_time.astimezone(timezone.utc).isoformat(timespec="microseconds"))
    if model is not None:
        times += [_iso(model.update_time), _label_time(model.labels.get(L_UPDATED, ""))]
    return max((t for t in times if t), default="")


@dataclass(frozen=True)
class Verdict:
    """What a job is to the planner: its state, why it failed, whether anything is left to
    delete; ``None`` state: dead (its model is gone or retired), so invisible."""

    state: State | None
    error: str = ""
    removable: bool = True


def judge(job: TuningJob, model: TunedModelInfo | None, newest: bool) -> Verdict:
    """The job's state from the job and its Model (``model``: None when ``models.list`` did
    not show it). ``newest``: no later job exists for the same manifest name."""
    made_model = bool(job.tuned_model)
    alive = model is not None and not model.retired
    if job.state == SUCCEEDED:
        if not alive:
            return Verdict(None)
        assert model is not None
        if job.endpoint and job.endpoint not in model.endpoints:
            why = f"broken: {model.name} is no longer deployed to {job.endpoint}"
            return Verdict(State.FAILED, why)
        return Verdict(State.ACTIVE)
    if job.state == CANCELLING:  # going away: nothing to do but wait (job_state.proto)
        return Verdict(State.FAILED, "cancelling", removable=False)
    if job.state in ENDED_BADLY:
        error = "cancelled" if job.state == CANCELLED else (job.error or job.state)
        if made_model and alive:
            return Verdict(State.FAILED, error)
        if newest and job.state != CANCELLED:  # shown, but there is nothing to delete
            return Verdict(State.FAILED, error, removable=False)
        return Verdict(None)
    return Verdict(State.TRAINING)


def refusal(model: TunedModelInfo) -> str:
    """The refused delete ``model``'s labels record (see `Models.retire`), as a sentence; ""
    when they record none."""
    status = model.labels.get(L_REFUSED, "")
    if not status:
        return ""
    when = _label_time(model.labels.get(L_UPDATED, ""))[:10]
    how = f" (HTTP {status})" if status.isdigit() else ""
    on = f" on {when}" if when else ""
    return f"Vertex AI refused to delete {_short(model.name)}{how}{on}"


def last_refusal(models: Iterable[TunedModelInfo]) -> str:
    """The latest refused delete the workspace's models record, as a sentence ("": none)."""
    refused = [m for m in models if m.labels.get(L_REFUSED)]
    latest = max(refused, key=lambda m: (m.labels.get(L_UPDATED, ""), m.name), default=None)
    return refusal(latest) if latest is not None else ""


def retirement(job: TuningJob, model: TunedModelInfo | None, refused: str = "") -> Retirement:
    """What `VertexProvider.delete` does to the job's tuned Model and Endpoints; ``refused``:
    an earlier refusal on record in the workspace (the model's own labels are read too)."""
    name = _short(model_name(job))
    endpoints = sorted({job.endpoint, *job.checkpoint_endpoints} - {""})
    endpoints += sorted(set(model.endpoints if model is not None else ()) - set(endpoints))
    steps = [f"undeploy {name} from {_short(e)} and delete {_short(e)}" for e in endpoints]
    steps.append(f"delete tuned model {name}")
    own = refusal(model) if model is not None else ""
    return Retirement(
        steps=tuple(steps),
        if_refused=(f"label {name} {L_RETIRED}=true (kept by Vertex AI, never served again)",),
        refused_before=own or refused,
    )


def _short(resource: str) -> str:
    """``projects/P/locations/L/models/M`` -> ``models/M`` (the plan names the project once)."""
    parts = resource.split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else resource


def to_remote(
    job: TuningJob, model: TunedModelInfo | None, verdict: Verdict, refused: str = ""
) -> RemoteModel:
    """The job as a model: the Model's labels, display name and description override the
    job's (they are what ``models.patch`` changed). ``refused``: see `retirement`."""
    assert verdict.state is not None
    values = {**job.labels, **(model.labels if model is not None else {})}
    return RemoteModel(
        id=job.name,
        display_name=model.display_name if model is not None else job.display_name,
        description=model.description if model is not None else job.description,
        owner=owner_from(values),
        state=verdict.state,
        base_model=job.base_model,
        hyperparameters=job.hyperparameters,
        create_time=job.create_time.isoformat() if job.create_time else "",
        update_time=_update_time(job, model),
        total_steps=job.total_steps,
        endpoint=job.endpoint if verdict.state is State.ACTIVE else "",
        error=verdict.error,
        removable=verdict.removable,
        options=job.options,
        checkpoints=job.checkpoints,
        serving_checkpoint=serving_checkpoint(job, model),
        scores=scores_from(model.labels) if model is not None else None,
        billable_tokens=job.billable_tokens,
        data_stats=job.data_stats,
        retirement=retirement(job, model, refused) if job.tuned_model else None,
        tuned_model=job.tuned_model if verdict.state is State.ACTIVE else "",
        tuning_evaluation=job.evaluation_runs,
    )


def serving_checkpoint(job: TuningJob, model: TunedModelInfo | None) -> str:
    """The checkpoint the job's endpoint serves: the Model's ``defaultCheckpointId``, else the
    last checkpoint ("the tuned model endpoint represents the endpoint of the default
    checkpoint"; "the final checkpoint is always saved"), "" when the job has none."""
    if model is not None and model.default_checkpoint:
        return model.default_checkpoint
    last = max(job.checkpoints, key=lambda c: (c.epoch, c.step), default=None)
    return last.checkpoint_id if last is not None else ""


def checkpoint_for(job: TuningJob, serving: str) -> str:
    """The ID of the checkpoint ``serving`` ("last" or an epoch number) names; "" if none."""
    if not job.checkpoints:
        return ""
    if serving == "last":
        return max(job.checkpoints, key=lambda c: (c.epoch, c.step)).checkpoint_id
    found = [c for c in job.checkpoints if str(c.epoch) == serving]
    return max(found, key=lambda c: c.step).checkpoint_id if found else ""


def resolve(
    jobs: list[TuningJob], models: dict[str, TunedModelInfo], workspace: str
) -> list[RemoteModel]:
    """Each job with its Model, judged; the dead left out, and anything not ours. A refused
    delete the models record makes each retirement say that a refusal is expected."""
    refused = last_refusal(models.values())
    newest: dict[str, TuningJob] = {}
    for j in jobs:
        key = j.labels.get(L_NAME, "") or j.name
        if key not in newest or _created(j) > _created(newest[key]):
            newest[key] = j
    out = []
    for j in jobs:
        model = models.get(model_name(j)) if j.tuned_model else None
        verdict = judge(j, model, newest=newest.get(j.labels.get(L_NAME, "") or j.name) is j)
        if verdict.state is None:
            continue
        remote = to_remote(j, model, verdict, refused)
        if remote.owner is not None and remote.owner.workspace == workspace:
            out.append(remote)
    return out


def _created(job: TuningJob) -> str:
    return job.create_time.isoformat() if job.create_time else ""
