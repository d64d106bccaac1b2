"""Planning: how long will the test run, how often will it ship the wrong arm, how much traffic does a
decision need? And, for a test that says `continue`, how many more days and users.

Both questions are the same computation: simulate the stopping rule forward, day by day, from a starting
state (the prior before the test; the current posterior counts during it) under true rates (fixed at the
planned baseline and effect; drawn from the posterior during the test), and read off the day each simulated
test stops. Every look is exact (the rule's P(best) and expected loss by quadrature), so the simulation
error is only that of the number of simulated tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayescausal.ab.sequential import StoppingRule, forward


@dataclass
class Plan:
    rows: list[dict]  # per true lift: expected days, P(decided by the horizon), P(ship)
    days_needed: int | None  # at the minimum effect, days until a decision with probability `power`
    visitors_needed: int | None  # per arm
    power: float


def plan_test(
    *,
    baseline: float,
    min_effect: float,
    daily_visitors: int,
    max_days: int,
    rule: StoppingRule,
    power: float = 0.8,
    sims: int = 2000,
    seed: int = 0,
) -> Plan:
    """The stopping rule under no effect, the minimum effect of interest and its mirror image (harm)."""
    rng = np.random.default_rng(seed)
    rows, at_effect = [], None
    for lift in (-min_effect, 0.0, min_effect):
        rates = np.tile([baseline, baseline * (1 + lift)], (sims, 1))
        run = forward(rates, daily_visitors=daily_visitors, horizon=max_days, rule=rule, rng=rng)
        wrong = run.shipped if lift <= 0 else ~run.shipped & run.decided
        rows.append(
            {
                "true_lift": lift,
                "expected_days": float(np.minimum(run.stop_day, max_days).mean()),
                "P(decided by max days)": float(run.decided.mean()),
                "P(ship)": float(run.shipped.mean()),
                "P(wrong decision)": float(wrong.mean()),
                "mcse": float(np.sqrt(max(run.shipped.mean() * (1 - run.shipped.mean()), 1e-12) / sims)),
            }
        )
        if lift == min_effect:
            at_effect = run
    days = at_effect.days_for(power)
    return Plan(rows, days, None if days is None else days * daily_visitors, power)


def more_data_needed(
    alpha: np.ndarray,
    beta: np.ndarray,
    visitors: np.ndarray,
    *,
    days_so_far: int,
    daily_visitors: int,
    rule: StoppingRule,
    power: float = 0.8,
    horizon: int = 60,
    sims: int = 200,
    seed: int = 0,
) -> dict:
    """For a test that says `continue`: extra days (and users per arm) until the rule decides with probability
    `power`, with the true rates drawn from the current posterior (control and the leading arm)."""
    rng = np.random.default_rng(seed + 61)
    rates = rng.beta(alpha, beta, size=(sims, 2))
    run = forward(
        rates,
        conversions=alpha - 1.0,
        visitors=visitors,
        days_so_far=days_so_far,
        daily_visitors=daily_visitors,
        horizon=horizon,
        rule=rule,
        rng=rng,
    )
    days = run.days_for(power)
    return {
        "more_days": days,
        "more_visitors_per_arm": None if days is None else days * daily_visitors,
        "probability": power,
        "median_more_days": float(np.median(np.minimum(run.stop_day, horizon))),
        "horizon_days": horizon,
    }
