"""Household x week panels with known effects: household and week effects, selection on baseline spend,
serially correlated (AR(1)) household shocks, staggered timing, and optionally a violated parallel trend."""

from __future__ import annotations

import numpy as np

from bayescausal.data.panel import Panel


def simulate_panel(
    *,
    units: int = 400,
    periods: int = 30,
    effect: float = 2.0,
    cohorts: tuple[tuple[int, int], ...] = ((20, 29),),
    treated_share: float = 0.4,
    rho: float = 0.7,
    noise_sd: float = 5.0,
    selection: float = 1.0,
    pretrend: float = 0.0,
    seed: int = 0,
) -> Panel:
    """`cohorts`: (first, last) treated period per cohort; treated units are drawn with probability rising in
    their baseline (selection on spend); `pretrend` adds a divergent linear trend to treated units."""
    rng = np.random.default_rng(seed)
    baseline = rng.gamma(2.0, 10.0, units)  # household effects, skewed like spend
    week = 5.0 * np.sin(np.arange(periods) / 4.0) + rng.normal(0, 1.0, periods)
    shocks = np.empty((units, periods))
    shocks[:, 0] = rng.normal(0, noise_sd, units)
    innovation_sd = noise_sd * np.sqrt(1 - rho**2)
    for t in range(1, periods):
        shocks[:, t] = rho * shocks[:, t - 1] + rng.normal(0, innovation_sd, units)
    score = selection * (baseline - baseline.mean()) / baseline.std()
    p_treat = 1 / (1 + np.exp(-(np.log(treated_share / (1 - treated_share)) + score)))
    is_treated = rng.random(units) < p_treat
    which = rng.integers(0, len(cohorts), units)
    treated = np.zeros((units, periods), dtype=bool)
    for k, (first, last) in enumerate(cohorts):
        treated[np.ix_(is_treated & (which == k), np.arange(first, last + 1))] = True
    trend = pretrend * np.arange(periods)[None, :] * is_treated[:, None]
    y = baseline[:, None] + week[None, :] + shocks + effect * treated + trend
    return Panel(y, treated, np.arange(units), np.arange(periods), "simulated spend")
