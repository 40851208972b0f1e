"""``status --loss NAME --png FILE``: the loss curve as a PNG, through matplotlib.

matplotlib is an optional extra (``pip install 'gitops-tune[plot]'``), imported only here and
only when a PNG is asked for; without it the command fails with one line saying how to get it.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_tune.errors import UserError
from gitops_tune.loss import Analysis, StepLoss

INSTALL_HINT = "--png needs matplotlib: pip install 'gitops-tune[plot]' (or pip install matplotlib)"


def write_png(path: str, title: str, analysis: Analysis, snapshots: Sequence[StepLoss]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError(INSTALL_HINT) from None

    # Epoch e's steps spread evenly over [e - 0.5, e + 0.5]: its mean sits at their centre.
    per_epoch = {e.epoch: e.steps for e in analysis.epochs}
    seen: dict[int, int] = {}
    xs, ys = [], []
    for s in sorted(snapshots, key=lambda s: s.step):
        seen[s.epoch] = seen.get(s.epoch, 0) + 1
        xs.append(s.epoch - 0.5 + (seen[s.epoch] - 0.5) / per_epoch[s.epoch])
        ys.append(s.mean_loss)

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    try:
        ax.plot(xs, ys, color="0.7", linewidth=1, label="loss per step")
        epochs = [e.epoch for e in analysis.epochs]
        ax.plot(
            epochs,
            [e.loss for e in analysis.epochs],
            marker="o",
            color="tab:blue",
            label="loss per epoch (mean of its steps)",
        )
        if analysis.recommended is not None:
            ax.axvline(analysis.recommended, color="tab:green", linestyle="--")
            ax.annotate(
                f"recommended epochCount: {analysis.recommended}",
                xy=(analysis.recommended, ax.get_ylim()[1] * 0.5),
                xytext=(6, 0),
                textcoords="offset points",
                color="tab:green",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_xticks(epochs)
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.legend(loc="upper right")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        try:
            fig.savefig(path, format="png")
        except OSError as e:
            raise UserError(f"--png {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
