"""Can the pre-period see a trend that matters? A linear pre-trend test with its power (Roth 2022).

A post-minus-pre contrast is biased by slope x gap under a linear differential trend, where the gap is the
distance between the mean treated period and the mean pre-period. Each unit's least-squares slope over the
pre-period is one number per unit, so the treated-minus-control slope has the same exact, serial-correlation
honest posterior as the effect itself (did.model.effect_draws). From its posterior sd follows the smallest
bias the pre-period would detect with 80% power (2.8 sd x gap); a pre-trend check that passes only because
it cannot see that much bias has not checked anything, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayescausal.did.model import Cohort, effect_draws

POWER_Z = 2.8  # 80% power against a two-sided 5% test: the usual minimum-detectable-effect multiplier
SLOPE_TAIL = 0.005  # a slope with P(> 0) outside [0.5%, 99.5%] is a detected pre-trend


@dataclass(frozen=True)
class PreTrend:
    periods: int  # pre-periods in the contrast
    slope_mean: float  # treated-minus-control slope per period
    slope_sd: float
    prob_positive: float
    gap: float  # mean treated period - mean pre-period, in periods
    detectable_bias: float  # the ATT bias a linear trend the pre-period would detect with 80% power implies

    @property
    def detected(self) -> bool:
        return not SLOPE_TAIL <= self.prob_positive <= 1 - SLOPE_TAIL

    def has_power(self, matters: float) -> bool:
        return self.detectable_bias <= matters


def linear_pretrend(outcome: np.ndarray, cohort: Cohort, pre_lo: int, *, draws: int = 8000, seed: int = 0):
    """The linear pre-trend over the cohort's own pre-period [pre_lo, start), or None with fewer than 2
    pre-periods (a slope needs two)."""
    t = np.arange(pre_lo, cohort.start, dtype=float)
    if len(t) < 2:
        return None
    x = t - t.mean()
    slopes = (outcome[:, pre_lo : cohort.start] - outcome[:, pre_lo : cohort.start].mean(axis=1, keepdims=True)) @ x
    slopes /= x @ x
    rng = np.random.default_rng(seed + 23)
    d = effect_draws(slopes[cohort.treated_units], slopes[cohort.control_units], draws, rng)
    gap = (cohort.start + cohort.end) / 2 - t.mean()
    sd = float(d.std())
    return PreTrend(len(t), float(d.mean()), sd, float((d > 0).mean()), float(gap), POWER_Z * sd * gap)
