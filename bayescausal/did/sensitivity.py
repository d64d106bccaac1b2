"""How robust is the answer to violations of parallel trends? Relative magnitudes (Rambachan & Roth 2023).

Suppose the treated units' counterfactual path after treatment may deviate from the controls' by up to M
times the largest deviation seen before treatment (the leads). For each M the effect is only bounded:
[ATT - M max|lead|, ATT + M max|lead|], draw by draw (ATT draws paired with draws of the event study's leads;
at M = 0 this is the decision's own posterior). The breakdown value is the smallest M at which the decision
would change under the family's own decision rule: for an `act` verdict, the smallest M at which the rule
applied to the lower bound no longer acts; otherwise, the smallest M at which the rule applied to the upper
bound would act (an effect the violation could be hiding). M = 1 says "post-treatment
violations as large as the worst pre-treatment one"; a breakdown near 0 means the answer rests entirely on
exact parallel trends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GRID = np.round(np.arange(0.0, 2.0001, 0.05), 2)


@dataclass(frozen=True)
class Sensitivity:
    grid: np.ndarray
    lower: np.ndarray  # (M, 3): 3%, 50%, 97% quantiles of the lower bound
    upper: np.ndarray  # (M, 3)
    breakdown: float | None  # None: the decision holds over the whole grid
    positive: bool  # the decision being tested: an effect (True) or no effect (False)

    def to_dict(self) -> dict:
        return {
            "breakdown_m": self.breakdown,
            "decision_tested": "act" if self.positive else "do not act",
            "m": self.grid.tolist(),
            "lower_median": self.lower[:, 1].tolist(),
            "upper_median": self.upper[:, 1].tolist(),
        }


def relative_magnitudes(effect: np.ndarray, lead_draws: np.ndarray, acts: Callable[[np.ndarray], bool]):
    """`effect`: ATT draws; `lead_draws`: (draws, leads) of the event study; `acts(draws)`: whether the decision
    rule acts on these effect draws. None without leads."""
    if lead_draws.shape[1] == 0:
        return None
    worst = np.abs(lead_draws).max(axis=1)
    worst_lead = worst[np.arange(len(effect)) % len(worst)]  # pair the two sets of draws by index
    lower = effect[None, :] - GRID[:, None] * worst_lead[None, :]
    upper = effect[None, :] + GRID[:, None] * worst_lead[None, :]
    positive = acts(effect)
    holds = np.array([acts(lo) if positive else not acts(up) for lo, up in zip(lower, upper, strict=True)])
    broken = np.flatnonzero(~holds)
    breakdown = float(GRID[broken[0]]) if broken.size else None
    q = [0.03, 0.5, 0.97]
    return Sensitivity(GRID, np.quantile(lower, q, axis=1).T, np.quantile(upper, q, axis=1).T, breakdown, positive)


def plot(sens: Sensitivity):
    from bayescausal.style import new_figure

    fig, ax = new_figure()
    ax.fill_between(
        sens.grid, sens.lower[:, 0], sens.upper[:, 2], alpha=0.2, color="C0", label="94% band of the bounds"
    )
    ax.plot(sens.grid, sens.lower[:, 1], color="C0", label="median lower bound")
    ax.plot(sens.grid, sens.upper[:, 1], color="C0", ls="--", label="median upper bound")
    ax.axhline(0, color="black", lw=0.8)
    if sens.breakdown is not None:
        ax.axvline(sens.breakdown, color="C3", lw=1.2, label=f"breakdown M = {sens.breakdown:g}")
    ax.set(
        xlabel="M: post-treatment trend violation / largest pre-treatment deviation",
        ylabel="effect bounds",
        title="Sensitivity to violations of parallel trends (relative magnitudes)",
    )
    ax.legend(fontsize=8)
    return fig
