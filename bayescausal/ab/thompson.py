"""Thompson-sampling allocation: next period's traffic share = P(arm is best), exactly.

Randomised Thompson sampling sends each user to the arm whose posterior draw is best; in expectation
that is P(arm is best), which we compute deterministically (no sampling noise in the weights). An
exploration floor keeps every arm learning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescausal.ab.ranking import rank_arms
from bayescausal.errors import SpecError


def allocate(alpha, beta, *, floor: float = 0.01, lower_is_better: bool = False) -> np.ndarray:
    """Traffic weights for the next period: floor + (1 - K floor) x P(best)."""
    alpha = np.asarray(alpha, dtype=float)
    k = alpha.shape[-1]
    if not 0 <= floor * k < 1:
        raise SpecError(f"exploration floor {floor} x {k} arms must be < 1")
    prob_best, _ = rank_arms(alpha, beta, lower_is_better=lower_is_better)
    return floor + (1 - k * floor) * prob_best


def simulate_regret(
    true_rates,
    *,
    periods: int,
    visitors_per_period: int,
    floor: float = 0.01,
    seed: int = 0,
    lower_is_better: bool = False,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
) -> pd.DataFrame:
    """Cumulative regret (expected conversions lost against always showing the best arm) of
    Thompson allocation versus a fixed equal split, period by period."""
    rates = np.asarray(true_rates, dtype=float)
    best = rates.min() if lower_is_better else rates.max()
    gap = np.abs(rates - best)
    rng = np.random.default_rng(seed)
    k = rates.size
    rows, state = [], {"thompson": np.zeros((2, k)), "equal split": np.zeros((2, k))}
    regret = dict.fromkeys(state, 0.0)
    for t in range(periods):
        for name, (n, y) in state.items():
            if name == "thompson":
                w = allocate(prior_alpha + y, prior_beta + n - y, floor=floor, lower_is_better=lower_is_better)
            else:
                w = np.full(k, 1 / k)
            sent = rng.multinomial(visitors_per_period, w)
            y += rng.binomial(sent, rates)
            n += sent
            regret[name] += float(sent @ gap)
            rows.append(
                {
                    "period": t + 1,
                    "policy": name,
                    "cumulative_regret": regret[name],
                    **{f"share[{i}]": s for i, s in enumerate(w)},
                }
            )
    return pd.DataFrame(rows)
