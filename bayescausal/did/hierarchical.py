"""Bayesian two-way DiD in PyMC on the cells each unit has: unit and period effects, AR(1) errors, and
treatment effects by cohort x event time, partially pooled.

    y_it = a_i + g_t + tau_{c(i), t - start_c} D_it + e_it,   e_i. ~ AR(1)(rho, sigma) over the unit's cells

* Unit effects a_i (flat prior: no shrinkage of targeted units towards the others, so selection on the level
  biases nothing) are integrated out in closed form. With P the AR(1) precision over a unit's cells, the
  marginal likelihood needs only r'Pr, 1'Pr and 1'P1 of the unit's residuals r, and the AR(1) whitening makes
  each a sum over the unit's cells (Woodbury). So the sampler never sees one parameter per unit, and a
  household x week panel costs a few vectorised passes over its cells per gradient.
* Period effects g_t, one per period (the first is the reference).
* AR(1) errors across each unit's cells, with gaps: a cell k periods after the previous one has correlation
  rho^k with it. Serially correlated shocks are what makes naive panel intervals too narrow (Bertrand, Duflo
  & Mullainathan 2004); the coverage study in tests/did and benchmarks/did.py is what justifies this choice.
* Effects tau_{c,e} = mu_e + delta_{c,e}: a mean path over event times e (a random walk, so neighbouring
  event times borrow strength) and each cohort's deviation from it (shrunk together by a learned scale).

Only untreated cells inform unit and period effects (did.cells picks the cells), which makes the effect's
posterior mean the imputation estimator's (Borusyak, Jaravel & Spiess 2024) up to the AR(1) weighting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayescausal.did.cells import CellDesign
from bayescausal.did.imputation import residual_sd
from bayescausal.sampling import SamplerSettings, sample

DEFAULT_TARGET_ACCEPT = 0.95


@dataclass
class HierarchicalFit:
    """Draws (chain, draw, ...) of each cohort's effect and of the ATT, in the outcome's units."""

    cohort_effects: np.ndarray  # (chain, draw, cohort)
    att: np.ndarray  # (chain, draw)
    path: np.ndarray  # (chain, draw, event time): the treated-cell-weighted effect by event time
    event_times: np.ndarray
    weights: np.ndarray  # treated cells per cohort
    idata: object
    design: CellDesign


def _standardise(design: CellDesign) -> tuple[float, float]:
    """Centre on the untreated cells and scale by their noise around unit and period effects, so that the
    priors below are in units of the within-unit noise whatever the outcome's units."""
    base = design.y[design.effect < 0]
    return float(base.mean()), residual_sd(design) or float(base.std()) or 1.0


def build_model(design: CellDesign, *, pooled: bool = True):
    """The PyMC model on standardised outcomes (see the module docstring). `pooled=False`: one effect per
    event time shared by all cohorts, each with its own wide prior and no smoothing (the pre-trend test's
    leads: pooling them towards each other would hide the wiggles the test is there to see)."""
    import pymc as pm
    import pytensor.tensor as pt

    centre, scale = _standardise(design)
    y = (design.y - centre) / scale
    periods, period_index = np.unique(design.period, return_inverse=True)
    groups = design.groups
    n_cohorts, event_times = groups["cohort"].max() + 1, np.unique(groups["event_time"])
    e_index = np.searchsorted(event_times, groups["event_time"].to_numpy())
    ends = design.unit_ends()
    first = design.gap == 0
    prev = np.where(first, 0, np.arange(design.n_cells) - 1)
    gap = np.maximum(design.gap, 1).astype(float)
    treated = design.effect >= 0
    coords = {"period": periods, "event_time": event_times, "group": np.arange(len(groups))}
    with pm.Model(coords=coords) as model:
        # flat unit effects leave the periods' common level unidentified: summing to zero removes it without
        # tying every period to one reference period (which correlates them all and slows mixing)
        g = pm.ZeroSumNormal("period_effect", 10.0, dims="period")
        if not pooled:
            tau = pm.Normal("effect_by_event_time", 0.0, 3.0, dims="event_time")[e_index]
        elif n_cohorts > 1:
            mu = _mean_path(pm, pt, len(event_times))
            spread = pm.HalfNormal("cohort_spread", 1.0)
            deviation = pm.Normal("cohort_deviation_raw", 0.0, 1.0, dims="group")
            tau = mu[e_index] + spread * deviation
        else:
            tau = _mean_path(pm, pt, len(event_times))[e_index]
        pm.Deterministic("effect", tau * scale, dims="group")
        rho = pm.Beta("rho", 1.5, 1.5)
        sigma = pm.HalfNormal("sigma", 2.0)
        omega = pm.HalfNormal("unit_effect_sd", 1.0)
        m = g[period_index] + pt.set_subtensor(pt.zeros(design.n_cells)[treated], tau[design.effect[treated]])
        pm.Potential(
            "likelihood", _unit_marginal(pt, y - m, treated.astype(float), first, prev, gap, ends, rho, sigma, omega)
        )
    return model, scale


def _unit_marginal(pt, r, d, first, prev, gap, ends, rho, sigma, omega):
    """log p(residuals | rho, sigma, omega) with each unit's level a_i (flat prior) and its own deviation b_i
    from the average effect on its treated cells (b_i ~ N(0, omega^2): effects differ between units) integrated
    out. X_i = [1, d_i]; with P the AR(1) precision, everything needed is r'Pr, X'Pr and X'PX per unit, each a
    sum of products of whitened vectors over the unit's cells (did.hierarchical module docstring)."""
    phi = pt.where(first, 0.0, rho**gap)
    root = pt.sqrt(1.0 - phi**2)

    def whiten(x):
        return (x - phi * x[prev]) / root

    u, w, wd = whiten(r), (1.0 - phi) / root, whiten(pt.as_tensor(d))
    a, b1, bd, c11, c1d, cdd = (_segment_sums(pt, x, ends) for x in (u * u, w * u, wd * u, w * w, w * wd, wd * wd))
    kappa = sigma**2 / omega**2  # the prior precision of b_i, relative to the noise's
    det = c11 * (cdd + kappa) - c1d**2
    explained = (b1**2 * (cdd + kappa) - 2 * b1 * bd * c1d + bd**2 * c11) / det
    n = np.diff(np.r_[-1, ends])
    quad = (a - explained).sum() / sigma**2
    logdet = (n - 1).sum() * 2 * pt.log(sigma) + 2 * pt.log(root).sum() + (pt.log(det) - pt.log(kappa)).sum()
    return -0.5 * (quad + logdet)


def _mean_path(pm, pt, n: int):
    """The effect's mean over event times: a random walk (neighbours pooled, the step size learned)."""
    level = pm.Normal("effect_level", 0.0, 3.0)
    if n == 1:
        return level[None]
    step = pm.HalfNormal("effect_step", 0.5)
    innovations = pm.Normal("effect_step_raw", 0.0, 1.0, shape=n - 1)
    return pt.concatenate([level[None], level + pt.cumsum(step * innovations)])


def _segment_sums(pt, x, ends: np.ndarray):
    """Sums of x over consecutive segments ending at `ends` (each unit's cells)."""
    total = pt.cumsum(x)[ends]
    return pt.concatenate([total[:1], total[1:] - total[:-1]])


def fit(design: CellDesign, settings: SamplerSettings, *, pooled: bool = True) -> HierarchicalFit:
    """Sample the model and turn the effect draws into cohort effects, the path and the ATT, each weighted
    by the treated cells it covers."""
    model, _ = build_model(design, pooled=pooled)
    idata = sample(model, settings, default_target_accept=DEFAULT_TARGET_ACCEPT)
    effect = idata["posterior"]["effect"].transpose("chain", "draw", "group").values
    groups = design.groups
    cells = groups["cells"].to_numpy(float)
    n_cohorts = int(groups["cohort"].max()) + 1
    by_cohort = np.zeros((len(groups), n_cohorts))
    by_cohort[np.arange(len(groups)), groups["cohort"]] = cells
    weights = by_cohort.sum(axis=0)
    cohort_effects = effect @ (by_cohort / weights)
    att = cohort_effects @ (weights / weights.sum())
    event_times = np.unique(groups["event_time"])
    by_time = np.zeros((len(groups), len(event_times)))
    by_time[np.arange(len(groups)), np.searchsorted(event_times, groups["event_time"])] = cells
    path = effect @ (by_time / by_time.sum(axis=0))
    return HierarchicalFit(cohort_effects, att, path, event_times, weights, idata, design)
