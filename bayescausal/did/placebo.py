"""With few treated units, is the model's uncertainty honest? Treat control units in turn (Conley & Taber 2011).

One treated store's contrast carries its own noise, which the store cannot estimate for itself; the model
borrows the controls' spread. The check asks the panel whether that is enough: control units, given the
treated cohort's window, must not look treated. Each permutation treats as many controls as the cohort has
treated units (each control in turn when there is one) and applies the same exact posterior to the rest.
A calibrated model calls a placebo "an effect" (P(effect > 0) outside [0.5%, 99.5%]) about 1% of the time;
far more often means the intervals are too narrow for this panel (heteroskedastic or heavy-tailed units),
and the check fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from bayescausal.did.model import Cohort, difference_se

TAIL = 0.005  # a placebo "effect" is P(effect > 0) outside [TAIL, 1 - TAIL]: nominally 1% of placebos
MAX_PERMUTATIONS = 500


@dataclass(frozen=True)
class PermutationPlacebo:
    permutations: int
    false_alarm_rate: float
    allowed: float  # nominal rate plus 3 binomial standard errors
    spread_ratio: float  # sd of placebo effects / the model's posterior sd of one placebo effect

    @property
    def passed(self) -> bool:
        return self.false_alarm_rate <= self.allowed


def _prob_positive(treated: np.ndarray, control: np.ndarray) -> tuple[float, float, float]:
    """The exact posterior's P(effect > 0) in closed form (Student-t), with the difference and its scale."""
    diff = treated.mean() - control.mean()
    scale, df = difference_se(treated, control)
    return float(stats.t.cdf(diff / scale, df)), float(diff), scale


def permutation_placebo(cohort: Cohort, *, seed: int = 0) -> PermutationPlacebo:
    """Pseudo-treated sets drawn from the controls (every single control when one unit is treated)."""
    z, k = cohort.z_control, len(cohort.z_treated)
    n = len(z)
    rng = np.random.default_rng(seed + 71)
    if k == 1:
        sets = [np.array([i]) for i in rng.permutation(n)[:MAX_PERMUTATIONS]]
    else:
        sets = [rng.choice(n, size=k, replace=False) for _ in range(MAX_PERMUTATIONS)]
    results = []
    for chosen in sets:
        rest = np.delete(z, chosen)
        results.append(_prob_positive(z[chosen], rest))
    p, diff, scale = (np.array(col) for col in zip(*results, strict=True))
    rate = float(np.mean((p < TAIL) | (p > 1 - TAIL)))
    nominal = 2 * TAIL
    allowed = nominal + 3 * np.sqrt(nominal * (1 - nominal) / len(sets))
    return PermutationPlacebo(len(sets), rate, float(allowed), float(diff.std() / np.median(scale)))
