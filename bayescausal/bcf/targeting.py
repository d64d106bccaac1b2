"""Uplift curves and profit-optimal targeting from posterior CATE draws.

Conventions: `tau` is (draws, n), customers are ranked by their posterior mean CATE (or expected profit),
and curves are evaluated at depths k = 0..n on a grid of fractions. Model-based curves carry posterior
bands; the data-based curves (observed Qini / gain, IPW or doubly robust) are the honest checks, valid
on held-out rows of a randomised experiment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayescausal.errors import DataError


def depth_grid(n: int, points: int = 101) -> np.ndarray:
    """Depths 0..n at evenly spaced fractions (unique integers)."""
    return np.unique(np.round(np.linspace(0, n, min(points, n + 1))).astype(int))


def ranking(score: np.ndarray) -> np.ndarray:
    """Indices from the highest to the lowest score (stable: ties keep data order)."""
    return np.argsort(-np.asarray(score, dtype=float), kind="stable")


def model_gain(tau: np.ndarray, order: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Posterior of the cumulative incremental outcome of treating the top k: (draws, len(depths))."""
    cum = np.concatenate([np.zeros((tau.shape[0], 1)), np.cumsum(tau[:, order], axis=1)], axis=1)
    return cum[:, depths]


def _cumulative(y: np.ndarray, z: np.ndarray, order: np.ndarray, depths: np.ndarray):
    """Treated and control counts and outcome sums among the top k, for each depth k."""
    y, z = np.asarray(y, float)[order], np.asarray(z)[order]

    def cum(values):
        return np.concatenate([[0.0], np.cumsum(values)])[depths]

    return cum(z), cum(1 - z), cum(y * z), cum(y * (1 - z))


def observed_gain(y: np.ndarray, z: np.ndarray, order: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Cumulative gain on data: (mean_T(top k) - mean_C(top k)) x k (0 where an arm is empty)."""
    n_t, n_c, y_t, y_c = _cumulative(y, z, order, depths)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = (y_t / n_t - y_c / n_c) * depths
    return np.where((n_t > 0) & (n_c > 0), gain, 0.0)


def qini(y: np.ndarray, z: np.ndarray, order: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Radcliffe's Qini curve: Y_T(k) - Y_C(k) N_T(k) / N_C(k) among the top k (0 while N_C(k) = 0)."""
    n_t, n_c, y_t, y_c = _cumulative(y, z, order, depths)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = y_t - y_c * n_t / n_c
    return np.where(n_c > 0, q, 0.0)


def pseudo_outcomes(
    y: np.ndarray, z: np.ndarray, pi: np.ndarray, m0: np.ndarray | None = None, m1: np.ndarray | None = None
) -> np.ndarray:
    """Unbiased per-unit effect scores: IPW (no outcome model) or doubly robust (AIPW with m0, m1)."""
    y, z, pi = np.asarray(y, float), np.asarray(z, float), np.asarray(pi, float)
    if m0 is None or m1 is None:
        return y * z / pi - y * (1 - z) / (1 - pi)
    return m1 - m0 + z * (y - m1) / pi - (1 - z) * (y - m0) / (1 - pi)


def pseudo_gain(gamma: np.ndarray, order: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Cumulative sum of pseudo-outcomes among the top k: an unbiased estimate of the gain curve."""
    return np.concatenate([[0.0], np.cumsum(np.asarray(gamma, float)[order])])[depths]


def auuc(curve: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Area under an uplift curve over the depth fraction [0, 1] (trapezoid), minus the area under the
    straight line of random targeting: > 0 when the ranking beats random. Works on (..., len(depths))."""
    frac = depths / depths[-1]
    curve = np.asarray(curve, float)
    area = np.trapezoid(curve, frac, axis=-1)
    random_area = curve[..., -1] / 2
    return area - random_area


def elasticity(gain: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """Cumulative elasticity: the average effect among the top k (gain / k), NaN at k = 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(depths > 0, gain / np.maximum(depths, 1), np.nan)


# --------------------------------------------------------------------------- profit


@dataclass
class Policy:
    """Who to treat, and the posterior of what it earns against the alternatives."""

    treat: np.ndarray  # (n,) bool
    expected_profit: np.ndarray  # (n,) posterior mean incremental profit per customer if treated
    prob_profitable: np.ndarray  # (n,) P(incremental profit > 0)
    profit: dict[str, np.ndarray]  # policy name -> (draws,) campaign incremental profit
    best_depth: np.ndarray  # (draws,) profit-maximising number treated along the expected-profit ranking
    order: np.ndarray  # ranking by expected profit
    min_prob: float
    prob_beats_uniform: float = 1.0  # P(the CATE rule earns more than the better of treat-all and treat-none)
    fallback: str | None = None  # "treat all" / "treat none" when the CATE rule was not confidently better
    masks: dict[str, np.ndarray] | None = None  # policy name -> who it treats


def profit_draws(tau: np.ndarray, margin: float, cost: np.ndarray | float) -> np.ndarray:
    """Incremental profit of treating each customer, draw by draw: margin x tau - cost."""
    return margin * np.asarray(tau, float) - np.asarray(cost, float)


CATE_RULE = "CATE rule (not confidently better)"


def optimal_policy(
    profit: np.ndarray,
    *,
    min_prob: float = 0.0,
    alternatives: dict[str, np.ndarray] | None = None,
    confidence: float = 0.0,
) -> Policy:
    """Treat exactly the customers with positive expected incremental profit (and, with `min_prob`,
    P(profit > 0) above it). Profit is additive over customers, so this maximises the expected campaign
    profit over all 2^n subsets; `alternatives` (name -> bool mask) are scored on the same draws.

    `confidence`: targeting is an action against the simple policy (the better of treat-all and treat-none
    in expectation), and like any action it must be probably better: when P(the CATE rule earns more) is
    below `confidence`, the simple policy is kept (`fallback`). Where the forest finds heterogeneity the data
    do not support (real e-mail data, benchmarks/hillstrom.py), excluding customers on noise loses to
    treating everyone; this rule keeps the campaign whole unless the posterior is sure targeting pays."""
    if not 0.0 <= min_prob < 1.0:
        raise DataError(f"min_prob must be in [0, 1), got {min_prob}")
    expected = profit.mean(0)
    prob = (profit > 0).mean(0)
    treat = (expected > 0) & (prob > min_prob)
    uniform_all = bool(profit.sum(1).mean() > 0)
    uniform = np.full_like(treat, uniform_all)
    beats = float(np.mean(profit[:, treat].sum(1) > profit[:, uniform].sum(1))) if (treat != uniform).any() else 1.0
    fallback = None if beats >= confidence else "treat all" if uniform_all else "treat none"
    policies = {"targeted": treat} if fallback is None else {"targeted": uniform, CATE_RULE: treat}
    policies |= {"treat all": np.ones_like(treat), "treat none": np.zeros_like(treat)} | (alternatives or {})
    order = ranking(expected)
    cum = np.concatenate([np.zeros((profit.shape[0], 1)), np.cumsum(profit[:, order], axis=1)], axis=1)
    return Policy(
        treat=policies["targeted"],
        expected_profit=expected,
        prob_profitable=prob,
        profit={name: profit[:, mask.astype(bool)].sum(1) for name, mask in policies.items()},
        best_depth=cum.argmax(1),
        order=order,
        min_prob=min_prob,
        prob_beats_uniform=beats,
        fallback=fallback,
        masks={name: mask.astype(bool) for name, mask in policies.items()},
    )


def policy_value(gamma: np.ndarray, treat: np.ndarray, margin: float, cost: np.ndarray | float) -> float:
    """Data-based (IPW / doubly robust) incremental profit of a policy on held-out rows."""
    cost = np.broadcast_to(np.asarray(cost, float), gamma.shape)
    return float(np.sum(treat * (margin * gamma - cost)))
