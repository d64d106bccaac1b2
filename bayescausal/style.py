"""One look for every figure (and the non-interactive backend, so reports render headless)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def new_figure(nrows: int = 1, ncols: int = 1, width: float = 7.5, height: float = 3.6):
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")
    for ax in fig.axes:
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes
