"""`gitops-tune status`: the workspace's models, their state, progress and last loss; with
``--loss NAME`` one model's loss curve and the epoch count it recommends.

Roles come from the planner, so `status` and `plan` never disagree:

- ``current``: its marker carries the manifest's fingerprint (what `output` points at);
- ``retained``: superseded, but kept by ``lifecycle.retainPrevious`` for a rollback
  (reverting the manifest to it restores it without training);
- ``superseded``: replaced; deleted by the next apply, or once its replacement is ACTIVE;
- ``removed``: its manifest is gone; the next apply deletes it.

Where the backend reports the training tokens it bills (Vertex AI's ``tuningDataStats``
``totalBillableTokenCount``), they are shown next to the plan's estimate for the current model.
Where a job reports its data (``tuningDataStats``, each tuning method's own: examples, steps,
characters billed where the method bills characters, examples dropped), a DATA column says it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from gitops_tune import loss
from gitops_tune.commands.session import Session, open_session
from gitops_tune.dataset.chat import Conversation
from gitops_tune.dataset.records import token_texts
from gitops_tune.desired import DesiredModel
from gitops_tune.errors import UserError
from gitops_tune.plan import Action, plan
from gitops_tune.providers.base import DataStats, RemoteModel, Scores, State
from gitops_tune.providers.tuning_evaluation import TuningEvaluationRun, summary
from gitops_tune.render import loss as loss_chart
from gitops_tune.render.progress import describe
from gitops_tune.review.cost import estimate_tokens, method_tokens
from gitops_tune.settings import Invocation


def run(
    paths: Sequence[str],
    *,
    workspace: str | None,
    backend: str | None,
    fmt: str = "text",
    loss_of: str | None = None,
    png: str | None = None,
) -> int:
    if png and not loss_of:
        raise UserError("--png FILE needs --loss NAME: which model's loss curve to draw")
    session = open_session(paths, Invocation.from_environ(workspace, backend))
    observed = sorted(session.observe(), key=lambda m: (_name(m), m.create_time, m.id))
    if loss_of:
        return _loss(session, observed, loss_of, fmt, png)
    roles = _roles(session, observed)
    desired = {d.name: d for d in session.desired.models}
    rows = [_row(m, roles[m.id], desired.get(_name(m))) for m in observed]
    if fmt == "json":
        click.echo(json.dumps({"models": [r.to_json() for r in rows]}, indent=2))
        return 0
    if not rows:
        click.echo(f'No models in workspace "{session.settings.workspace}".')
        return 0
    billed = any(r.billable is not None for r in rows)
    scored = any(r.score for r in rows)  # a SCORE column only where evaluations ran
    stats = any(r.data for r in rows)  # a DATA column where jobs report their data
    head = ["NAME", "TUNED MODEL", "STATE", "ROLE", "PROGRESS", "LOSS"]
    table = [
        head
        + (["SCORE"] if scored else [])
        + (["TOKENS (BILLED / ESTIMATED)"] if billed else [])
        + (["DATA (AS THE JOB REPORTS IT)"] if stats else [])
    ]
    table += [
        r.cells()
        + ([r.score or "-"] if scored else [])
        + ([r.tokens()] if billed else [])
        + ([r.data.summary() if r.data else "-"] if stats else [])
        for r in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    best = [(r.model, r.best) for r in rows if r.best]
    if best:
        click.echo("\nServing checkpoint chosen by spec.evaluation (serving.checkpoint: best):")
        for model, line in best:
            click.echo(f"  {model}: {line}")
    during = [(r.model, r.tuning) for r in rows if r.tuning]
    if during:
        click.echo("\nEvaluated by the tuning job (Vertex AI's evaluateDatasetRuns; not the gate):")
        for model, line in during:
            click.echo(f"  {model}: {line}")
    return 0


@dataclass(frozen=True)
class Row:
    name: str
    model: str
    state: str
    role: str
    progress: str
    loss: str
    billable: int | None  # training tokens the backend bills (Vertex AI's tuningDataStats)
    estimated: int | None  # the plan's estimate for the same data, next to ``billable``
    score: str = ""  # the last evaluation: "0.8125 passed", "" where none ran
    tuning: str = ""  # the tuning job's own evaluation, e.g. "exactMatch 0.7500 (checkpoint 3)"
    tuning_runs: tuple[TuningEvaluationRun, ...] = ()
    data: DataStats | None = None  # what the job reports of its data (any method)
    chosen: Scores | None = None  # scores with a checkpoint chosen (serving.checkpoint best)

    @property
    def best(self) -> str:
        """ "checkpoint best = epoch 2 (score ...; epochs: ...)", "" where none was chosen."""
        return self.chosen.best_line() if self.chosen is not None else ""

    def cells(self) -> list[str]:
        return [self.name, self.model, self.state, self.role, self.progress, self.loss]

    def tokens(self) -> str:
        if self.billable is None:
            return "-"
        estimate = f"~{self.estimated:,}" if self.estimated is not None else "-"
        return f"{self.billable:,} / {estimate}"

    def to_json(self) -> dict[str, Any]:
        keys = ["name", "model", "state", "role", "progress", "loss"]
        doc: dict[str, Any] = dict(zip(keys, self.cells(), strict=True))
        doc |= {"billable_tokens": self.billable, "estimated_tokens": self.estimated}
        doc |= {"data_stats": self.data.to_json() if self.data else None}
        doc |= {"score": self.score} if self.score else {}
        if self.chosen is not None and self.chosen.best:
            each = [{"epoch": e, "score": v} for e, v in self.chosen.checkpoints]
            doc |= {"best_checkpoint": {"epoch": self.chosen.best, "checkpoints": each}}
        return doc | ({"tuning_evaluation": _runs_json(self.tuning_runs)} if self.tuning else {})


def _runs_json(runs: Sequence[TuningEvaluationRun]) -> list[dict[str, Any]]:
    return [
        {
            "checkpoint": r.checkpoint or None,
            "scores": [
                {"metric": s.metric, "aggregation": s.aggregation, "score": s.score}
                for s in r.scores
            ],
            "error": r.error or None,
            "output": r.output or None,
        }
        for r in runs
    ]


def _row(m: RemoteModel, role: str, d: DesiredModel | None) -> Row:
    if d is not None and role == "current":
        progress, _ = describe(d, m)
    else:
        last = m.snapshots[-1] if m.snapshots else None
        progress = m.state.value + (f"  step {last.step}" if last else "")
    if m.state is State.FAILED and m.error and m.error not in progress:
        progress += f": {m.error}"
    last_loss = f"{m.snapshots[-1].mean_loss:.4f}" if m.snapshots else "-"
    estimated = None
    if m.billable_tokens is not None and d is not None and role == "current":
        estimated = estimated_tokens(d)
    score = f"{m.scores.score:.4f} {m.scores.verdict}" if m.scores else ""
    return Row(
        _name(m),
        m.id,
        m.state.value,
        role,
        progress,
        last_loss,
        m.billable_tokens,
        estimated,
        score,
        summary(m.tuning_evaluation),
        m.tuning_evaluation,
        m.data_stats,
        m.scores,
    )


def estimated_tokens(d: DesiredModel) -> int:
    """The plan's estimate of ``d``'s training tokens: its examples' characters at about four
    a token, times the epoch count; a method's rows as its cost line counts them (see
    `gitops_tune.review.cost`)."""
    epochs = d.hyperparameters.epochs
    if d.options.method:
        chars = sum(e.chars for e in d.examples() if isinstance(e, Conversation))
        return method_tokens(d.options.method, d.options.method_settings, chars)[0] * epochs
    chars = sum(len(text) for e in d.examples() for text in token_texts(e))
    return estimate_tokens(chars) * epochs


def _roles(session: Session, observed: list[RemoteModel]) -> dict[str, str]:
    """Each model's role, read from the plan (see the module docstring)."""
    desired = {d.name: d for d in session.desired.models}
    try:
        p = plan(session.desired.models, observed, session.plan_options(), "")
    except UserError:  # e.g. preventDestroy refuses the plan: roles from fingerprints alone
        p = None
    retiring = (
        {c.remote for c in p.changes if c.action in (Action.DELETE, Action.CANCEL)} if p else set()
    )
    retiring_later = {r for c in p.changes for r in c.superseded} if p else set()
    roles: dict[str, str] = {}
    for m in observed:
        d = desired.get(_name(m))
        if d is None:
            roles[m.id] = "removed"
        elif m.owner is not None and m.owner.fingerprint == d.fingerprint:
            roles[m.id] = "current" if m.id not in retiring else "duplicate"
        elif p is None or m.id in retiring or m.id in retiring_later:
            roles[m.id] = "superseded"
        else:
            roles[m.id] = "retained"
    return roles


#: A reinforcement job's rewards per evaluation interval: google-genai 3.6's TuningJob (and
#: Vertex AI's v1beta1 TuningJob) has no field for them.
REWARD_CURVE = (
    "reward curve: not published by the tuning job (TuningJob has no reward field); see the "
    "job's Vertex AI Experiment (TuningJob.experiment) in the Google Cloud console"
)


def _loss(
    session: Session, observed: list[RemoteModel], wanted: str, fmt: str, png: str | None
) -> int:
    model = _pick(session, observed, wanted)
    api = session.settings.backend.api
    if not model.snapshots and not api.loss_curve:
        said = REWARD_CURVE if model.options.method == "reinforcement" else api.no_loss_curve
        click.echo(f"{_name(model)}: {model.id} ({model.state.value}): {said}.")
        return 0
    finished = model.state is State.ACTIVE
    analysis = loss.analyze(model.snapshots, finished=finished)
    d = next((d for d in session.desired.models if d.name == _name(model)), None)
    declared = d.hyperparameters.epochs if d is not None else None
    title = f"{_name(model)}: {model.id} ({model.state.value})"
    if png:
        from gitops_tune.render.plot import write_png  # matplotlib only when asked for

        write_png(png, title, analysis, model.snapshots)
    if fmt == "json":
        doc: dict[str, Any] = {
            "name": _name(model),
            "model": model.id,
            "state": model.state.value,
            "epochs": [
                {"epoch": e.epoch, "loss": e.loss, "steps": e.steps, "complete": e.complete}
                for e in analysis.epochs
            ],
            "recommended_epoch_count": analysis.recommended,
            "declared_epoch_count": declared,
            "verdict": analysis.verdict,
            "png": png,
        }
        click.echo(json.dumps(doc, indent=2))
        return 0
    steps = len(model.snapshots)
    click.echo(f"{title}, {steps} step{'s' if steps != 1 else ''}")
    click.echo("loss per epoch (the mean of its steps' losses)\n")
    click.echo(loss_chart.chart(analysis))
    if analysis.epochs:
        click.echo(loss_chart.table(analysis))
    so_far = "" if finished else " so far"
    if analysis.recommended is not None:
        line = f"Recommended epochCount: {analysis.recommended}{so_far}: {analysis.verdict}."
    else:
        line = f"No recommended epochCount{so_far}: {analysis.verdict}."
    if declared is not None:
        line += f" Declared: {declared}."
    click.echo(line)
    if png:
        click.echo(f"Wrote {png}.")
    return 0


def _pick(session: Session, observed: list[RemoteModel], wanted: str) -> RemoteModel:
    """NAME is a manifest name (its current model, else its newest) or a tuned model ID."""
    ids = {wanted, f"tunedModels/{wanted}"}
    by_id = [m for m in observed if m.id in ids or m.id.rsplit("/", 1)[-1] == wanted]
    if by_id:
        return by_id[0]
    mine = [m for m in observed if _name(m) == wanted]
    if not mine:
        known = sorted({_name(m) for m in observed})
        hint = f"; models: {', '.join(known)}" if known else ""
        raise UserError(f"--loss {wanted}: no such model in the workspace{hint}")
    d = next((d for d in session.desired.models if d.name == wanted), None)
    current = [
        m for m in mine if d is not None and m.owner and m.owner.fingerprint == d.fingerprint
    ]
    return (current or sorted(mine, key=lambda m: (m.create_time, m.id)))[-1]


def _name(m: RemoteModel) -> str:
    return m.owner.name if m.owner else ""
