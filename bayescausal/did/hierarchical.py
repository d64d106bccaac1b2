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

from dataclasses import dataclass, replace

import numpy as np

from bayescausal.did import likelihood
from bayescausal.did.cells import CellDesign
from bayescausal.did.imputation import residual_sd
from bayescausal.did.model import SHARED_SCALE_BELOW, shares_scale
from bayescausal.sampling import SamplerSettings, sample

DEFAULT_TARGET_ACCEPT = 0.95
CENTRED_MIN_CELLS = 100


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


def outcome_data(design: CellDesign) -> dict[str, np.ndarray]:
    """Everything the model reads from the outcomes, by the name of its `pm.Data` container: the scale back to
    the outcome's units, each shared pattern's sufficient statistics, and the standardised cells left to the
    per-cell sums (`y`, absent when every unit shares a pattern). The rest of the model depends only on which
    cells exist and which are treated, so one compiled model refits new outcomes on the same cells (nutpie's
    `with_data`), as a coverage study or a bootstrap of outcomes does."""
    return _split(design)[2]


def _split(design: CellDesign):
    """The shared patterns, the mask of cells left to the per-cell sums, and `outcome_data`, from one pass."""
    centre, scale = _standardise(design)
    y = (design.y - centre) / scale
    patterns, per_cell = likelihood.split(design, y, _period_index(design), _arms(design))
    data = {"scale": np.asarray(scale)} | ({"y": y[per_cell]} if per_cell.any() else {})
    if patterns is not None:
        data |= {"pattern_total": patterns.total, "pattern_gram": patterns.gram}
    return patterns, per_cell, data


def build_model(design: CellDesign, *, pooled: bool = True):
    """The PyMC model on standardised outcomes (see the module docstring). `pooled=False`: one effect per
    event time shared by all cohorts, each with its own wide prior and no smoothing (the pre-trend test's
    leads: pooling them towards each other would hide the wiggles the test is there to see)."""
    import pymc as pm
    import pytensor.tensor as pt

    periods = np.unique(design.period)
    groups = design.groups
    n_cohorts, event_times = groups["cohort"].max() + 1, np.unique(groups["event_time"])
    e_index = np.searchsorted(event_times, groups["event_time"].to_numpy())
    coords = {"period": periods, "event_time": event_times, "group": np.arange(len(groups))}
    coords["arm"] = ["never treated", "treated"]
    patterns, per_cell, values = _split(design)
    with pm.Model(coords=coords) as model:
        data = {name: pm.Data(name, value) for name, value in values.items()}
        # flat unit effects leave the periods' common level unidentified: summing to zero removes it without
        # tying every period to one reference period (which correlates them all and slows mixing)
        g = pm.ZeroSumNormal("period_effect", 10.0, dims="period")
        if not pooled:
            tau = pm.Normal("effect_by_event_time", 0.0, 3.0, dims="event_time")[e_index]
        else:
            mu = _mean_path(pm, pt, len(event_times), centred(design))[e_index]
            tau = _cohort_effects(pm, mu, design) if n_cohorts > 1 else mu
        pm.Deterministic("effect", tau * data["scale"], dims="group")
        rho = pm.Deterministic("rho", 2.0 * pm.Beta("rho_unit", 2.0, 2.0) - 1.0)  # on (-1, 1)
        sigma = _noise_scale(pm, design)
        omega = _unit_deviation_sd(pm, design)
        likelihood_terms = _loglik(pt, design, patterns, per_cell, data, g, tau, rho, sigma, omega)
        pm.Potential("likelihood", likelihood_terms)
    return model


def _period_index(design: CellDesign) -> np.ndarray:
    """Per cell: its period's position among the periods the design has (the period effects' index)."""
    return np.unique(design.period, return_inverse=True)[1]


def _arms(design: CellDesign) -> np.ndarray:
    """Per cell: 1 for a unit treated at some point, else 0."""
    return design.ever_treated[design.unit].astype(int)


def _noise_scale(pm, design: CellDesign):
    """The AR(1) noise sd: one for never-treated and one for treated units (their spend may vary differently,
    and a scale pooled over both would borrow the quieter group's), unless either group is too small to
    estimate its own (did.model.shares_scale: then they share one, as the exact model does)."""
    units = np.unique(design.unit)
    treated = int(design.ever_treated[units].sum())
    if shares_scale(treated, len(units) - treated):
        return pm.HalfNormal("sigma", 2.0)
    return pm.HalfNormal("sigma", 2.0, dims="arm")


def _unit_deviation_sd(pm, design: CellDesign):
    """The sd of each treated unit's own deviation from the average effect, learned from how much the treated
    units' shifts differ beyond their noise. Fewer treated units than did.model.SHARED_SCALE_BELOW cannot show
    that (one treated store has no spread at all), and a prior-only scale widened the effect's interval to
    cover the truth in 100 of 100 simulations: so, as the exact model does for them, the treated units are
    taken to share one effect (deviation sd 0, stated in the notes)."""
    return 0.0 if shares_one_effect(design) else pm.HalfNormal("unit_effect_sd", 1.0)


def shares_one_effect(design: CellDesign) -> bool:
    """Whether the model takes every treated unit to have the same effect (too few to show otherwise)."""
    return int(design.ever_treated[np.unique(design.unit)].sum()) < SHARED_SCALE_BELOW


def _loglik(pt, design: CellDesign, patterns, per_cell, data: dict, g, tau, rho, sigma, omega):
    """Units that share their cells through their sufficient statistics (read from `data`, so that new outcomes
    can replace them), the others cell by cell."""
    arm, period_index = _arms(design), _period_index(design)
    with_zero = pt.concatenate([tau, pt.zeros(1)])  # effect index -1 (untreated) reads the zero

    def scale(a):
        return sigma[a] if sigma.ndim else sigma

    total = 0.0
    if patterns is not None:
        p = replace(patterns, total=data["pattern_total"], gram=data["pattern_gram"])
        m = (g[p.period_index] + with_zero[p.effect]) * p.mask  # padded cells read zero
        total = likelihood.pattern_sum(pt, p, m, rho, scale(p.arm), omega)
    if not per_cell.any():
        return total
    cells = np.flatnonzero(per_cell)
    unit, gap, effect = design.unit[cells], design.gap[cells], design.effect[cells]
    first = gap == 0
    prev = np.where(first, 0, np.arange(len(cells)) - 1)
    ends = np.flatnonzero(np.r_[unit[1:] != unit[:-1], True])
    r = data["y"] - g[period_index[cells]] - with_zero[effect]
    treated = (effect >= 0).astype(float)
    return total + likelihood.cell_sums(
        pt, r, treated, first, prev, np.maximum(gap, 1).astype(float), ends, rho, scale(arm[cells][ends]), omega
    )


def _mean_path(pm, pt, n: int, centred: bool):
    """The effect's mean over event times: a random walk (neighbours pooled, the step size learned), its steps
    centred or not as `centred` says."""
    level = pm.Normal("effect_level", 0.0, 3.0)
    if n == 1:
        return level[None]
    step = pm.HalfNormal("effect_step", 0.5)
    steps = _normal(pm, "effect_step", 0.0, step, n - 1, centred)
    return pt.concatenate([level[None], level + pt.cumsum(steps)])


def _cohort_effects(pm, mu, design: CellDesign):
    """Each effect group (cohort x event time) around the mean path, shrunk together by a learned spread."""
    spread = pm.HalfNormal("cohort_spread", 1.0)
    return _normal(pm, "cohort_effect", mu, spread, len(design.groups), centred(design))


def centred(design: CellDesign) -> bool:
    """Centre the pooled effects when every effect group has many cells. Then the data pin each effect far more
    tightly than the pooling scale does, and a non-centred effect has a funnel; with few cells per group (a
    small cohort, late event times seen by one cohort) the prior dominates and the non-centred form mixes.
    Centring group by group (Papaspiliopoulos, Roberts & Skold 2007) was tried: a centred group beside
    non-centred ones funnels as the shared spread shrinks (mpdta: 91 divergences, against 0 all non-centred)."""
    return bool(design.groups["cells"].min() >= CENTRED_MIN_CELLS)


def _normal(pm, name: str, mean, sd, size: int, centred: bool):
    """`size` draws of N(mean, sd), as `{name}_centred` or as mean + sd x `{name}_raw` (non-centred)."""
    if centred:
        return pm.Normal(f"{name}_centred", mean, sd, shape=size)
    return mean + sd * pm.Normal(f"{name}_raw", 0.0, 1.0, shape=size)


def fit(design: CellDesign, settings: SamplerSettings, *, pooled: bool = True) -> HierarchicalFit:
    """Sample the model and summarise its effect draws (`summarise`)."""
    idata = sample(build_model(design, pooled=pooled), settings, default_target_accept=DEFAULT_TARGET_ACCEPT)
    return summarise(idata, design)


def summarise(idata, design: CellDesign) -> HierarchicalFit:
    """Cohort effects, the path by event time and the ATT from the effect groups' draws, each weighted by the
    treated cells it covers."""
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
