"""How `apply` shows what it does: plain lines for logs, redrawn progress bars on a terminal."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import TextIO

import click

from gitops_tune import log
from gitops_tune.desired import DesiredModel
from gitops_tune.plan.model import Change
from gitops_tune.providers.base import RemoteModel, State

BAR_WIDTH = 24


def describe(d: DesiredModel, m: RemoteModel | None) -> tuple[str, float]:
    """One status line for a model in training, and its completed fraction."""
    if m is None:
        return "not found", 0.0
    total = d.total_steps
    last = m.snapshots[-1] if m.snapshots else None
    if m.state is State.ACTIVE:
        fraction = 1.0
    else:
        fraction = min(1.0, (last.step / total) if last and total else 0.0)
    epochs = d.hyperparameters.epochs
    parts = [m.state.value]
    if last is not None:
        parts += [f"epoch {last.epoch}/{epochs}", f"step {last.step}/{total}"]
        parts.append(f"loss {last.mean_loss:.4f}")
    return "  ".join(parts), fraction


def action_line(change: Change, status: str) -> tuple[str, str]:
    """The model an action is on, and the line that reports the action's ``status`` (start,
    done, failed, or deferred: a stage whose parent is not ready)."""
    target = change.new_id or change.remote or ""
    verb = {"start": "...", "done": "done", "failed": "FAILED", "deferred": "deferred"}[status]
    return target, f"{change.name}: {change.action.value} {target} {verb}"


class TerminalReporter:
    def __init__(self, out: TextIO | None = None, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self.quiet = quiet
        self._lock = threading.Lock()
        self._drawn = 0
        self._last: dict[str, str] = {}

    def _echo(self, line: str) -> None:
        with self._lock:
            click.echo(line, file=self.out)
            self._drawn = 0

    def action(self, change: Change, status: str, detail: str = "") -> None:
        if self.quiet and status != "failed":
            return
        _, line = action_line(change, status)
        self._echo(f"{line}: {detail}" if detail else line)

    def progress(self, models: Sequence[tuple[DesiredModel, RemoteModel | None]]) -> None:
        if self.quiet:
            return
        if not self.tty:
            for d, m in models:
                text, _ = describe(d, m)
                if self._last.get(d.name) != text:
                    self._last[d.name] = text
                    self._echo(f"{d.name}: {text}")
            return
        width = max(len(d.name) for d, _ in models)
        lines = []
        for d, m in models:
            text, fraction = describe(d, m)
            filled = round(fraction * BAR_WIDTH)
            bar = "█" * filled + "░" * (BAR_WIDTH - filled)
            lines.append(f"{d.name.ljust(width)}  {bar} {fraction:4.0%}  {text}")
        with self._lock:
            if self._drawn:
                self.out.write(f"\x1b[{self._drawn}F\x1b[J")
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()
            self._drawn = len(lines)

    def evaluation(self, name: str, model: str, done: int, total: int) -> None:
        """An evaluation's progress: a bar redrawn on a terminal, each quarter otherwise."""
        if self.quiet:
            return
        line = f"{name}: evaluating {model}: {done}/{total}"
        if not self.tty:
            if done == total or done % max(1, -(-total // 4)) == 0:  # quarters
                self._echo(line)
            return
        filled = round(done / total * BAR_WIDTH) if total else BAR_WIDTH
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        with self._lock:
            self.out.write(f"\r{bar} {line}" + ("\n" if done == total else ""))
            self.out.flush()


class JsonReporter:
    """``--log-format json``: apply's events as JSON lines on stderr (see ``gitops_tune.log``).
    Progress is reported when a model's state, epoch or step moves, never redrawn."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._lock = threading.Lock()
        self._last: dict[str, tuple[object, ...]] = {}

    def action(self, change: Change, status: str, detail: str = "") -> None:
        if self.quiet and status != "failed":
            return
        target, message = action_line(change, status)
        fields: dict[str, object] = {
            "event": "action",
            "name": change.name,
            "action": change.action.value,
            "model": target or None,
            "status": status,
        }
        if detail:
            fields["detail"] = detail
        with self._lock:
            log.event("error" if status == "failed" else "info", message, **fields)

    def progress(self, models: Sequence[tuple[DesiredModel, RemoteModel | None]]) -> None:
        if self.quiet:
            return
        for d, m in models:
            text, _ = describe(d, m)
            last = m.snapshots[-1] if m and m.snapshots else None
            key = (m.state if m else None, last)
            if self._last.get(d.name) == key:
                continue
            self._last[d.name] = key
            with self._lock:
                log.event(
                    "info",
                    f"{d.name}: {text}",
                    event="progress",
                    name=d.name,
                    model=m.id if m else None,
                    state=m.state.value if m else None,
                    epoch=last.epoch if last else None,
                    epochs=d.hyperparameters.epochs,
                    step=last.step if last else None,
                    total_steps=d.total_steps,
                    loss=last.mean_loss if last else None,
                )

    def evaluation(self, name: str, model: str, done: int, total: int) -> None:
        if self.quiet or (done != total and done % max(1, -(-total // 4))):
            return
        with self._lock:
            log.event(
                "info",
                f"{name}: evaluating {model}: {done}/{total}",
                event="evaluation",
                name=name,
                model=model,
                done=done,
                total=total,
            )
