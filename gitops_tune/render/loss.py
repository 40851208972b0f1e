"""The loss curve in a terminal: a Unicode bar chart and the table of numbers behind it.

Only draws an :class:`~gitops_tune.loss.Analysis`; what the curve means (the plateau, the
recommended epoch count) is decided in ``gitops_tune.loss``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitops_tune.loss import Analysis, EpochLoss

_EIGHTHS = " ▁▂▃▄▅▆▇█"
_PARTIAL = "░"


@dataclass(frozen=True)
class _Layout:
    top: float  # the loss at the top row
    height: int  # rows of bars
    labels: tuple[str, str, str]  # y-axis labels: top, middle, 0
    pad: int  # width of the y-axis labels
    bar: int  # characters a bar is wide
    gap: int  # characters between bars

    @property
    def cell(self) -> int:
        return self.bar + self.gap

    @classmethod
    def of(cls, epochs: tuple[EpochLoss, ...], height: int, max_width: int) -> _Layout:
        top = max(e.loss for e in epochs) or 1.0
        labels = (_fmt(top), _fmt(top / 2), _fmt(0.0))
        pad = max(len(s) for s in labels)
        n = len(epochs)
        bar = max(1, min(3, (max_width - pad - 2) // n - 1))
        gap = 1 if bar > 1 or n <= (max_width - pad - 2) // 2 else 0
        return cls(top, height, labels, pad, bar, gap)


def chart(analysis: Analysis, height: int = 10, max_width: int = 72) -> str:
    """A Unicode bar chart: loss on y (from 0), one bar per epoch on x, the recommended epoch
    marked with ▲ under its bar. Partial (still training) epochs are drawn with ░."""
    epochs = analysis.epochs
    if not epochs:
        return "no loss reported yet\n"
    lay = _Layout.of(epochs, height, max_width)
    rows = [_row(lay, epochs, r) for r in range(height, 0, -1)]
    rows.append(f"{lay.labels[2]:>{lay.pad}} └" + "─" * (lay.cell * len(epochs) + 1))
    rows.append(" " * (lay.pad + 1) + _ticks(lay, analysis) + "  epoch")
    if analysis.recommended is not None:
        i = next(i for i, e in enumerate(epochs) if e.epoch == analysis.recommended)
        col = lay.pad + 2 + i * lay.cell + lay.gap + (lay.bar - 1) // 2
        rows.append(" " * col + "▲ recommended")
    return "\n".join(rows) + "\n"


def _row(lay: _Layout, epochs: tuple[EpochLoss, ...], r: int) -> str:
    """The ``r``-th row from the bottom (1-based): its y-axis, then a slice of every bar."""
    if r == lay.height:
        axis = f"{lay.labels[0]:>{lay.pad}} ┤"
    elif r == (lay.height + 1) // 2 and lay.height >= 4:
        axis = f"{lay.labels[1]:>{lay.pad}} ┤"
    else:
        axis = f"{'':>{lay.pad}} │"
    line = ""
    for e in epochs:
        fill = e.loss / lay.top * lay.height - (r - 1)  # how much of this row the bar covers
        line += " " * lay.gap + _glyph(e, fill) * lay.bar
    return (axis + line).rstrip()


def _glyph(e: EpochLoss, fill: float) -> str:
    if fill <= 0:
        return " "
    if not e.complete:
        return _PARTIAL
    return "█" if fill >= 1 else _EIGHTHS[max(1, round(fill * 8))]


def _ticks(lay: _Layout, analysis: Analysis) -> str:
    """The x-axis labels: every epoch where they fit, and always the recommended one."""
    epochs = analysis.epochs
    ticks = [" "] * (lay.cell * len(epochs) + 2)
    every = 1 if lay.cell >= 3 else max(1, -(-len(str(epochs[-1].epoch)) // lay.cell) + 1)
    for i, e in enumerate(epochs):
        if i % every and e.epoch != analysis.recommended:
            continue
        label = str(e.epoch)
        start = max(0, 1 + i * lay.cell + lay.gap + (lay.bar - len(label)) // 2)
        if all(c == " " for c in ticks[max(0, start - 1) : start + len(label) + 1]):
            ticks[start : start + len(label)] = list(label)
    return "".join(ticks).rstrip()


def table(analysis: Analysis) -> str:
    """The numbers behind the chart: one line per epoch."""
    lines = ["epoch  loss     steps"]
    for e in analysis.epochs:
        mark = "  ◀ recommended" if e.epoch == analysis.recommended else ""
        partial = "  (training)" if not e.complete else ""
        lines.append(f"{e.epoch:>5}  {e.loss:<7.4f}  {e.steps:>5}{partial}{mark}")
    return "\n".join(lines) + "\n"


def _fmt(v: float) -> str:
    return f"{v:.2f}" if v >= 0.1 or v == 0 else f"{v:.3g}"
