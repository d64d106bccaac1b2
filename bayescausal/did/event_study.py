"""Event study: effects by period relative to treatment start, leads as the parallel-trends check.

For one cohort, each unit's deviation y_{i, start+e} - y_{i, start-1} (reference: the last pre-period)
is a vector over event times e. Treated and control mean vectors get exact Normal-Inverse-Wishart
posteriors (reference prior), so the effect path is drawn jointly, with its correlation across e,
and P(all |lead| < tolerance) is a joint posterior probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayescausal.data.panel import Panel
from bayescausal.did.model import Cohort, shares_scale
from bayescausal.errors import DataError
from bayescausal.estimates import hdi_from_draws


@dataclass
class EventStudy:
    event_times: np.ndarray  # relative periods (e = -1 is the reference, omitted)
    draws: np.ndarray  # (draws, event times)
    table: pd.DataFrame
    prob_leads_within_tolerance: float
    tolerance: float
    zero_tail_prob: float  # posterior tail probability of "no pre-trend" in the leads' joint region
    slope_sd: float  # posterior sd of a linear pre-trend per period fitted to the leads (nan without leads)
    reference: str = "period -1"  # what leads and lags are measured against

    @property
    def is_lead(self) -> np.ndarray:
        return (self.table["kind"] == "lead").to_numpy()

    @property
    def lead_draws(self) -> np.ndarray:
        return self.draws[:, self.is_lead]


def slope_draws(draws: np.ndarray, event_times: np.ndarray) -> np.ndarray:
    """Per draw, the least-squares slope of the leads on event time, through the reference period (e = -1,
    fixed at zero): the linear pre-trend the leads can see, and how precisely."""
    x = event_times + 1.0
    return draws @ x / (x @ x)


def zero_tail_probability(draws: np.ndarray) -> float:
    """Share of posterior draws farther (Mahalanobis) from the posterior mean than the zero vector is:
    a joint, calibrated measure of whether "all leads are zero" is plausible (uniform under no pre-trend),
    which, unlike a product of per-lead checks, does not fail more often as leads are added."""
    if draws.shape[1] == 0:
        return float("nan")
    centred = draws - draws.mean(axis=0)
    precision = np.linalg.pinv(np.atleast_2d(np.cov(centred, rowvar=False)))
    mean = draws.mean(axis=0)
    d_zero = float(mean @ precision @ mean)
    d_draws = np.einsum("di,ij,dj->d", centred, precision, centred)
    return float(np.mean(d_draws >= d_zero))


def _scatter(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    return centred.T @ centred


def _vector_draws(mean: np.ndarray, scatter: np.ndarray, df: int, scale: float, draws: int, rng) -> np.ndarray:
    """Draws of `mean` + N(0, Sigma * scale) with Sigma ~ Inverse-Wishart(df, scatter) (reference prior); with
    fewer degrees of freedom than event times, or a scatter without full rank (households whose spend moved
    identically, e.g. all zero), each event time is drawn on its own (each still exact)."""
    k = len(mean)
    if df < k or np.linalg.matrix_rank(scatter) < k:
        sigma2 = np.diag(scatter) / rng.chisquare(df, size=(draws, k))
        return mean + np.sqrt(sigma2 * scale) * rng.standard_normal((draws, k))
    sigma = stats.invwishart.rvs(df=df, scale=scatter + 1e-9 * np.eye(k), size=draws, random_state=rng)
    chol = np.linalg.cholesky(sigma.reshape(draws, k, k) * scale)
    return mean + np.einsum("dij,dj->di", chol, rng.standard_normal((draws, k)))


def _path_draws(treated: np.ndarray, control: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Exact posterior draws of the treated-minus-control mean path (rows: units, columns: event times):
    each group with its own covariance, or one shared covariance when a group is small (as in did.model)."""
    nt, nc = len(treated), len(control)
    if nt + nc < 3:
        raise DataError("event study: one treated and one control unit leave no degrees of freedom")
    if not shares_scale(nt, nc):
        return _vector_draws(treated.mean(0), _scatter(treated), nt - 1, 1 / nt, draws, rng) - _vector_draws(
            control.mean(0), _scatter(control), nc - 1, 1 / nc, draws, rng
        )
    pooled = _scatter(treated) + _scatter(control)
    diff = treated.mean(0) - control.mean(0)
    return _vector_draws(diff, pooled, nt + nc - 2, 1 / nt + 1 / nc, draws, rng)


def event_study(
    panel: Panel,
    cohort: Cohort,
    *,
    leads: int = 8,
    tolerance: float | None = None,
    draws: int = 4000,
    seed: int = 0,
    hdi_prob: float = 0.94,
) -> EventStudy:
    """Leads (e < -1) and lags (e >= 0) of one cohort's effect, relative to period start-1."""
    start, end = cohort.start, cohort.end
    first = max(0, start - leads - 1)
    window = np.arange(first, end + 1)
    event_times = window - start
    keep = event_times != -1
    ref = panel.outcome[:, start - 1][:, None]
    dev = panel.outcome[:, window][:, keep] - ref
    rng = np.random.default_rng(seed)
    effect = _path_draws(dev[cohort.treated_units], dev[cohort.control_units], draws, rng)
    e = event_times[keep]
    return summarise(e, effect, e < -1, panel.periods[start + e], tolerance=tolerance, hdi_prob=hdi_prob)


def summarise(
    event_times: np.ndarray,
    effect: np.ndarray,
    lead_cols: np.ndarray,
    periods,
    *,
    tolerance: float | None,
    hdi_prob: float,
    reference: str = "period -1",
) -> EventStudy:
    """The event study's table and lead checks from joint draws (draws, event times) of its path."""
    if tolerance is None:  # default: 3 posterior sds of a lead, so noise alone passes and a real trend fails
        tolerance = 3.0 * float(effect[:, lead_cols].std(axis=0).mean()) if lead_cols.any() else np.inf
    within = np.all(np.abs(effect[:, lead_cols]) < tolerance, axis=1).mean() if lead_cols.any() else np.nan
    rows = []
    for j, ev in enumerate(event_times):
        low, high = hdi_from_draws(effect[:, j], hdi_prob)
        rows.append(
            {
                "event_time": int(ev),
                "period": periods[j],
                "mean": effect[:, j].mean(),
                "sd": effect[:, j].std(),
                "hdi_low": low,
                "hdi_high": high,
                "P(effect > 0)": float((effect[:, j] > 0).mean()),
                "kind": "lead" if lead_cols[j] else "lag",
            }
        )
    tail = zero_tail_probability(effect[:, lead_cols])
    e = np.asarray(event_times)
    slope_sd = float(slope_draws(effect[:, lead_cols], e[lead_cols]).std()) if lead_cols.any() else np.nan
    table = pd.DataFrame(rows)
    return EventStudy(e, effect, table, float(within), float(tolerance), tail, slope_sd, reference)
