"""Bayesian difference-in-differences on unit-level contrasts.

Model: y_it = a_i + g_t + tau_g D_it + e_it with household effects a_i, week effects g_t and an effect
per treatment cohort g (units sharing a treatment window). Each unit's contrast

    z_i = mean(y_i over g's treated weeks) - mean(y_i over g's pre-period weeks)

removes a_i exactly, whatever the household effects are (no shrinkage of targeted households), and
the contrast between treated and control units removes g_t exactly (no shrinkage of week effects). The
z_i are independent across units whatever the serial correlation of e_it within a unit, so the
posterior of tau_g is honest under AR(1) shocks, household trends or any within-unit dependence
(Bertrand, Duflo & Mullainathan 2004 collapse pre/post for exactly this reason). Controls for a
cohort are units untreated through the end of its window: never-treated or not-yet-treated units,
never already-treated ones, so staggered timing carries no two-way-fixed-effects bias.

Likelihood of the z_i: Gaussian with a separate scale for treated and control units, whose posterior
is exact (Normal-Inverse-Gamma, no MCMC) and whose posterior mean of tau_g equals the two-way
fixed-effects (within) estimator; or Student-t (heavy-tailed spend), sampled with NUTS in PyMC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescausal.data.panel import Panel
from bayescausal.errors import DataError
from bayescausal.sampling import SamplerSettings, sample


@dataclass
class Cohort:
    """Units treated on the same window, their controls, and every unit's contrast."""

    start: int  # period index of the first treated period
    end: int  # period index of the last treated period (inclusive)
    treated_units: np.ndarray  # unit indices
    control_units: np.ndarray
    z_treated: np.ndarray
    z_control: np.ndarray
    label: str

    @property
    def treated_unit_periods(self) -> int:
        return len(self.treated_units) * (self.end - self.start + 1)


def cohorts(
    panel: Panel, *, pre_periods: int | None = None, min_controls: int = 2, skipped: list[str] | None = None
) -> list[Cohort]:
    """Group treated units by treatment window and build each unit's post-minus-pre contrast.

    Controls are units untreated through the end of the cohort's window. Where too few are (every unit is
    treated eventually), the window is cut at the period before the next cohort starts, so the units treated
    later serve as not-yet-treated controls for the periods before their own treatment. A cohort with no
    comparison even then (the last one to be treated) is left out, and why is appended to `skipped`; only
    when no cohort has a comparison is the panel refused."""
    d = panel.treated
    ever = d.any(axis=1)
    first = np.where(ever, d.argmax(axis=1), -1)
    last = np.where(ever, d.shape[1] - 1 - d[:, ::-1].argmax(axis=1), -1)
    span = last - first + 1
    if (d.sum(axis=1)[ever] != span[ever]).any():
        raise DataError(
            "DiD panel: treatment must be one contiguous window per unit (switching on and off "
            "repeatedly is not a difference-in-differences design this model supports)."
        )
    out, left_out = [], []
    starts = sorted(set(first[ever].tolist()))
    for start, end in sorted(set(zip(first[ever].tolist(), last[ever].tolist(), strict=True))):
        treated_units = np.flatnonzero((first == start) & (last == end))
        later = [s for s in starts if s > start]
        for cut in (end, *([min(end, later[0] - 1)] if later else [])):  # full window, else before the next cohort
            control_units = np.flatnonzero(~d[:, : cut + 1].any(axis=1))
            if len(control_units) >= min_controls:
                break
        else:
            left_out.append(
                f"the cohort treated from period {panel.periods[start]} ({len(treated_units)} units) has fewer than "
                f"{min_controls} never- or not-yet-treated units to compare with"
                + ("" if later else ": every other unit is treated by then, so its effect is not estimated")
            )
            continue
        pre_lo = 0 if pre_periods is None else max(0, start - pre_periods)
        pre = slice(pre_lo, start)
        post = slice(start, cut + 1)
        z = panel.outcome[:, post].mean(axis=1) - panel.outcome[:, pre].mean(axis=1)
        label = f"{panel.periods[start]}-{panel.periods[cut]}"
        if cut < end:
            left_out.append(
                f"the cohort treated from period {panel.periods[start]} is compared over periods {label} only, "
                f"before its not-yet-treated controls (treated from {panel.periods[later[0]]}) are treated"
            )
        out.append(Cohort(start, cut, treated_units, control_units, z[treated_units], z[control_units], label))
    if not out:
        raise DataError("DiD panel: no cohort has a comparison: " + "; ".join(left_out))
    if skipped is not None:
        skipped.extend(left_out)
    return out


@dataclass
class DiDPosterior:
    """Draws of each cohort's effect, the treated-unit-period-weighted ATT, and how they were obtained."""

    cohort_effects: np.ndarray  # (draws, cohorts)
    att: np.ndarray  # (draws,)
    labels: list[str]
    weights: np.ndarray  # treated unit-periods per cohort
    method: str
    idata: object | None = None  # the NUTS output (Student-t), for diagnostics
    tail_df: float = math.inf  # the smallest cohort's Student-t degrees of freedom (exact model)

    @property
    def finite_moments(self) -> int:
        """Moments the ATT's posterior has: a weighted sum of cohort effects has only what its heaviest-tailed
        term has."""
        return moments_below(self.tail_df)


def moments_below(df: float) -> int:
    """Moments (up to 2) of a Student-t with `df` degrees of freedom: those of order below df."""
    return 2 if math.isinf(df) else int(min(2, max(0, math.ceil(df) - 1)))


def cohort_moments(c: Cohort) -> int:
    """Moments of one cohort's exact effect posterior."""
    return moments_below(effect_df(len(c.z_treated), len(c.z_control)))


PPC_MIN_UNITS = 5
SHARED_SCALE_BELOW = 10  # a treated or control group smaller than this borrows the other group's spread


def shares_scale(n_treated: int, n_control: int) -> bool:
    """Few units cannot estimate their own noise (one treated store has none to estimate): below
    SHARED_SCALE_BELOW units in either group, treated and control contrasts share one residual scale,
    so inference leans on the controls' spread (Conley & Taber 2011)."""
    return min(n_treated, n_control) < SHARED_SCALE_BELOW


def _nig_mean_draws(z: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Exact posterior draws of the mean of Gaussian z under the reference prior p(mu, sigma) ~ 1/sigma."""
    n = len(z)
    s2 = z.var(ddof=1)
    sigma2 = (n - 1) * s2 / rng.chisquare(n - 1, size=draws)
    return z.mean() + np.sqrt(sigma2 / n) * rng.standard_normal(draws)


def effect_df(n_treated: int, n_control: int) -> float:
    """Degrees of freedom of the Student-t tails of `effect_draws`: the shared scale's, or the smaller group's."""
    if shares_scale(n_treated, n_control):
        return float(n_treated + n_control - 2)
    return float(min(n_treated, n_control) - 1)


def effect_draws(z_treated: np.ndarray, z_control: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Exact posterior draws of mean(treated) - mean(control): separate scales (Welch-like) when both groups
    can estimate their own, else one shared scale (equal variances, reference prior)."""
    nt, nc = len(z_treated), len(z_control)
    if nt + nc < 3:
        raise DataError("DiD: one treated and one control unit leave no degrees of freedom to estimate the noise")
    if not shares_scale(nt, nc):
        return _nig_mean_draws(z_treated, draws, rng) - _nig_mean_draws(z_control, draws, rng)
    df = nt + nc - 2
    ss = ((z_treated - z_treated.mean()) ** 2).sum() + ((z_control - z_control.mean()) ** 2).sum()
    sigma2 = ss / rng.chisquare(df, size=draws)
    diff = z_treated.mean() - z_control.mean()
    return diff + np.sqrt(sigma2 * (1 / nt + 1 / nc)) * rng.standard_normal(draws)


def posterior_gaussian(groups: list[Cohort], *, draws: int = 8000, seed: int = 0) -> DiDPosterior:
    """Exact posterior (treated and control means each Normal-Inverse-Gamma; a shared scale for small groups)."""
    rng = np.random.default_rng(seed)
    effects = np.column_stack([effect_draws(c.z_treated, c.z_control, draws, rng) for c in groups])
    effects = _jointly(effects, effect_correlation(groups), rng)
    shared = [c.label for c in groups if shares_scale(len(c.z_treated), len(c.z_control))]
    method = "Gaussian unit contrasts, exact Normal-Inverse-Gamma posterior"
    if len(groups) > 1:
        method += "; cohorts drawn jointly (they share control units)"
    if shared:
        method += f" (one residual scale shared by treated and controls in cohort(s) {', '.join(shared)})"
    post = _finish(groups, effects, method, None)
    post.tail_df = min(effect_df(len(c.z_treated), len(c.z_control)) for c in groups)
    return post


def effect_correlation(groups: list[Cohort]) -> np.ndarray:
    """Correlation of the cohorts' effect estimates. Cohorts share units (the same never-treated controls, and
    a later cohort's units are an earlier one's not-yet-treated controls), so their errors are correlated and
    the ATT, a weighted sum, is wider than independent draws make it. Each effect is a weighted mean of unit
    contrasts (+1/n_t treated, -1/n_c control), so its influence per unit is weight x residual; the
    covariance is the sum over units of the products of influences (the cluster-robust covariance)."""
    n = 1 + max(int(np.max(np.r_[c.treated_units, c.control_units])) for c in groups)
    influence = np.zeros((len(groups), n))
    for g, c in enumerate(groups):
        influence[g, c.treated_units] = (c.z_treated - c.z_treated.mean()) / len(c.z_treated)
        influence[g, c.control_units] = -(c.z_control - c.z_control.mean()) / len(c.z_control)
    cov = influence @ influence.T
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd) if (sd > 0).all() else np.eye(len(groups))


def _jointly(effects: np.ndarray, correlation: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each cohort's exact draws, reordered so that draws of different cohorts carry `correlation` (Iman and
    Conover 1982: ranks of correlated normals). Every cohort keeps exactly its own posterior; only the
    pairing across cohorts changes, which is what the ATT's spread depends on."""
    if effects.shape[1] == 1 or np.allclose(correlation, np.eye(len(correlation))):
        return effects
    values, vectors = np.linalg.eigh(correlation)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))  # a square root that tolerates a not quite PSD matrix
    normals = rng.standard_normal(effects.shape) @ root.T
    ranks = normals.argsort(axis=0).argsort(axis=0)
    return np.take_along_axis(np.sort(effects, axis=0), ranks, axis=0)


def posterior_student_t(groups: list[Cohort], settings: SamplerSettings) -> DiDPosterior:
    """Student-t contrasts (robust to heavy-tailed spend), sampled with NUTS."""
    import pymc as pm

    z = np.concatenate([np.concatenate([c.z_control, c.z_treated]) for c in groups])
    cohort = np.concatenate([np.full(len(c.z_control) + len(c.z_treated), k) for k, c in enumerate(groups)])
    is_treated = np.concatenate([np.r_[np.zeros(len(c.z_control)), np.ones(len(c.z_treated))] for c in groups])
    scale = float(np.std(z)) or 1.0
    centre = np.array([np.median(c.z_control) for c in groups])
    with pm.Model(coords={"cohort": [c.label for c in groups], "arm": ["control", "treated"]}) as model:
        mu = pm.Normal("control_mean", centre, 2.5 * scale, dims="cohort")
        tau = pm.Normal("effect", 0.0, 2.5 * scale, dims="cohort")
        sigma = pm.HalfNormal("sigma", 2.0 * scale, dims=("cohort", "arm"))
        nu = pm.Gamma("nu", 2.0, 0.1)
        location = mu[cohort] + tau[cohort] * is_treated
        pm.StudentT("z", nu=nu, mu=location, sigma=sigma[cohort, is_treated.astype(int)], observed=z)
    idata = sample(model, settings)
    post = idata["posterior"]["effect"].stack(sample=("chain", "draw")).transpose("sample", "cohort").values
    return _finish(groups, post, "Student-t unit contrasts (NUTS)", idata)


def _finish(groups, effects, method, idata) -> DiDPosterior:
    weights = np.array([c.treated_unit_periods for c in groups], dtype=float)
    att = effects @ (weights / weights.sum())  # draw by draw, weighted by treated unit-periods
    return DiDPosterior(effects, att, [c.label for c in groups], weights, method, idata)


def within_estimator(panel: Panel, *, chunk: int = 65_536) -> tuple[float, float]:
    """Two-way fixed-effects estimate and household-clustered s.e. (reference; balanced panel, one window).

    Two-way demeaning, a - row mean - column mean + grand mean, runs over blocks of units, so a
    1M-unit panel needs one block's copies, not four of the whole panel."""
    y, d = panel.outcome, panel.treated
    col_y, col_d = y.mean(axis=0), d.mean(axis=0)
    grand_y, grand_d = col_y.mean(), col_d.mean()
    xy, xx = np.empty(len(y)), np.empty(len(y))  # per unit: sum_t xd*yd and sum_t xd^2
    for lo in range(0, len(y), chunk):
        yb, db = y[lo : lo + chunk], d[lo : lo + chunk].astype(float)
        yd = yb - yb.mean(axis=1, keepdims=True) - col_y + grand_y
        xd = db - db.mean(axis=1, keepdims=True) - col_d + grand_d
        xy[lo : lo + chunk], xx[lo : lo + chunk] = (xd * yd).sum(axis=1), (xd * xd).sum(axis=1)
    beta = float(xy.sum() / xx.sum())
    score = xy - beta * xx  # each unit's sum_t xd * residual
    var = (score**2).sum() / xx.sum() ** 2
    n_units, n_periods = y.shape
    n, k = n_units * n_periods, n_units + n_periods
    var *= n_units / (n_units - 1) * (n - 1) / (n - k)
    return beta, float(np.sqrt(var))


def cohort_table(groups: list[Cohort], post: DiDPosterior, hdi_prob: float = 0.94) -> pd.DataFrame:
    from bayescausal.estimates import hdi_from_draws

    rows = []
    for k, c in enumerate(groups):
        draws = post.cohort_effects[:, k]
        low, high = hdi_from_draws(draws, hdi_prob)
        se, _ = difference_se(c.z_treated, c.z_control)
        rows.append(
            {
                "cohort (periods)": c.label,
                "treated units": len(c.treated_units),
                "control units": len(c.control_units),
                "effect_mean": draws.mean(),
                "effect_sd": draws.std(),
                "hdi_low": low,
                "hdi_high": high,
                "P(effect > 0)": float((draws > 0).mean()),
                "difference of means": c.z_treated.mean() - c.z_control.mean(),
                "robust s.e.": se,
            }
        )
    return pd.DataFrame(rows)


def difference_se(z_treated: np.ndarray, z_control: np.ndarray) -> tuple[float, float]:
    """Standard error of the difference of means and its degrees of freedom: Welch (with Welch's df), or
    pooled (n_t + n_c - 2) when the groups share a scale, as `effect_draws` does."""
    nt, nc = len(z_treated), len(z_control)
    if not shares_scale(nt, nc):
        vt, vc = z_treated.var(ddof=1) / nt, z_control.var(ddof=1) / nc
        return float(np.sqrt(vt + vc)), float((vt + vc) ** 2 / (vt**2 / (nt - 1) + vc**2 / (nc - 1)))
    ss = ((z_treated - z_treated.mean()) ** 2).sum() + ((z_control - z_control.mean()) ** 2).sum()
    return float(np.sqrt(ss / (nt + nc - 2) * (1 / nt + 1 / nc))), float(nt + nc - 2)


def predictive_check(groups: list[Cohort], *, draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Posterior predictive check of the Gaussian contrast model: replicate each group's contrasts and
    compare quantiles and sd with the observed ones (heavy-tailed spend shows up here: consider Student-t)."""
    rng = np.random.default_rng(seed + 11)
    rows = []
    stats = {
        "q05": lambda a: np.quantile(a, 0.05, axis=-1),
        "median": lambda a: np.median(a, axis=-1),
        "q95": lambda a: np.quantile(a, 0.95, axis=-1),
        "sd": lambda a: a.std(axis=-1),
    }
    for c in groups:
        for arm, z in (("treated", c.z_treated), ("control", c.z_control)):
            n = len(z)
            if n < PPC_MIN_UNITS:  # a handful of contrasts has no distribution shape to check
                continue
            sigma2 = (n - 1) * z.var(ddof=1) / rng.chisquare(n - 1, size=draws)
            mu = z.mean() + np.sqrt(sigma2 / n) * rng.standard_normal(draws)
            size = min(n, 2000)
            rep = mu[:, None] + np.sqrt(sigma2)[:, None] * rng.standard_normal((draws, size))
            for name, fn in stats.items():
                observed = float(fn(z))
                replicated = fn(rep)
                rows.append(
                    {
                        "cohort": c.label,
                        "group": arm,
                        "statistic": name,
                        "observed": observed,
                        "predicted_mean": float(replicated.mean()),
                        "p_value": float((replicated >= observed).mean()),
                    }
                )
    return pd.DataFrame(rows, columns=["cohort", "group", "statistic", "observed", "predicted_mean", "p_value"])
