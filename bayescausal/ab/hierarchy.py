"""Partial pooling over segments: the Bayesian answer to looking at many segments at once.

Two hierarchies:
- `fit_segment_lifts` (default): logit-normal in PyMC. Each segment has its own baseline and its own
  lift (log-odds) per treatment arm, shrunk toward a common lift with a learned between-segment
  spread `tau`. The lift is non-centred (a segment's lift is usually weakly identified next to
  `tau`); baselines are not pooled (see `segment_model`).
- `beta_binomial_grid` / `beta_binomial_nuts`: rates across many segments (or past experiments) as
  Beta(alpha, beta) draws with BDA3's hyperprior p(alpha, beta) ~ (alpha + beta)^(-5/2). The
  hyperposterior is two-dimensional, so it is computed exactly on a grid (BDA3 section 5.3); the
  NUTS path exists to show both agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize, special

from bayescausal.errors import DataError
from bayescausal.estimates import hdi_from_draws
from bayescausal.sampling import SamplerSettings, sample


@dataclass
class SegmentLifts:
    """Pooled and raw per-segment lifts; `table` is what the report shows side by side."""

    posterior: xr.DataTree
    table: pd.DataFrame
    spread: pd.DataFrame  # between-segment sd of the log-odds lift, per treatment arm
    lift_draws: np.ndarray  # (draws, segment, treatment), absolute rate difference
    method: str
    ppc: pd.DataFrame  # per cell: observed conversions and the 94% posterior predictive interval


def _cell_matrix(seg: pd.DataFrame, arms: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    segments = list(dict.fromkeys(seg["segment"]))
    visitors = seg.pivot_table(index="segment", columns="arm", values="visitors", aggfunc="sum", fill_value=0)
    conversions = seg.pivot_table(index="segment", columns="arm", values="conversions", aggfunc="sum", fill_value=0)
    visitors = visitors.reindex(index=segments, columns=arms, fill_value=0)
    conversions = conversions.reindex(index=segments, columns=arms, fill_value=0)
    if len(segments) < 2:
        raise DataError("segment pooling needs at least 2 segments; with one, use the plain analysis.")
    return segments, visitors.to_numpy(np.int64), conversions.to_numpy(np.int64)


def segment_model(seg: pd.DataFrame, arms: list[str]):
    """The logit-normal segment-lift model (arms[0] is the control)."""
    import pymc as pm

    segments, n, y = _cell_matrix(seg, arms)
    treatments = arms[1:]
    pooled_rate = (y[:, 0].sum() + 0.5) / (n[:, 0].sum() + 1.0)
    coords = {"segment": segments, "arm": arms, "treatment": treatments}
    with pm.Model(coords=coords) as model:
        # each segment's control rate gets its own weakly informative prior (its data pins it down); pooling
        # it as well adds a funnel when segments are few and alike, and the question is the lift
        base = pm.Normal("base", special.logit(pooled_rate), 2.0, dims="segment")
        lift = pm.Normal("lift", 0.0, 1.0, dims="treatment")  # mean log-odds lift across segments
        # between-segment sd of the log-odds lift: most prior mass below 0.5 (segment lifts differing by up to
        # about +-50% relative); wider priors leave a ridge at large tau that NUTS cannot cross with few segments
        tau = pm.HalfNormal("tau", 0.25, dims="treatment")
        z_lift = pm.Normal("z_lift", 0.0, 1.0, dims=("segment", "treatment"))
        treated = base[:, None] + lift[None, :] + tau[None, :] * z_lift
        eta = pm.math.concatenate([base[:, None], treated], axis=1)
        rate = pm.Deterministic("rate", pm.math.sigmoid(eta), dims=("segment", "arm"))
        pm.Deterministic("segment_lift", rate[:, 1:] - rate[:, 0][:, None], dims=("segment", "treatment"))
        pm.Binomial("conversions", n=n, p=rate, observed=y, dims=("segment", "arm"))
    return model


def fit_segment_lifts(
    seg: pd.DataFrame,
    arms: list[str],
    settings: SamplerSettings,
    *,
    hdi_prob: float = 0.94,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
) -> SegmentLifts:
    """Fit the logit-normal hierarchy with NUTS and tabulate pooled vs raw segment lifts."""
    model = segment_model(seg, arms)
    # with few segments tau is barely identified and its posterior reaches into a narrow neck: small steps
    idata = sample(model, settings, default_target_accept=0.995)
    post = idata["posterior"].to_dataset()
    rate = post["rate"].stack(sample=("chain", "draw")).transpose("sample", "segment", "arm").values
    segments, n, y = _cell_matrix(seg, arms)
    table = _segment_table(segments, arms, rate, n, y, settings.seed, hdi_prob, prior_alpha, prior_beta)
    tau = post["tau"].stack(sample=("chain", "draw")).transpose("sample", "treatment").values
    spread = pd.DataFrame(
        [
            {
                "arm": t,
                "tau_mean": tau[:, k].mean(),
                "tau_hdi_low": hdi_from_draws(tau[:, k], hdi_prob)[0],
                "tau_hdi_high": hdi_from_draws(tau[:, k], hdi_prob)[1],
            }
            for k, t in enumerate(arms[1:])
        ]
    )
    lifts = rate[:, :, 1:] - rate[:, :, :1]
    ppc = _predictive_check(segments, arms, rate, n, y, settings.seed)
    return SegmentLifts(idata, table, spread, lifts, "logit-normal hierarchy (NUTS)", ppc)


def _predictive_check(segments, arms, rate, n, y, seed) -> pd.DataFrame:
    """Replicate every cell's conversions from the posterior; where does the observed count fall?"""
    rng = np.random.default_rng(seed + 2)
    y_rep = rng.binomial(n, rate)  # (draws, segment, arm)
    low, high = np.quantile(y_rep, [0.03, 0.97], axis=0)
    p_value = (y_rep >= y).mean(axis=0)
    return pd.DataFrame(
        {
            "segment": np.repeat(segments, len(arms)),
            "arm": np.tile(arms, len(segments)),
            "observed": y.ravel(),
            "predicted_mean": y_rep.mean(axis=0).ravel(),
            "predicted_low": low.ravel(),
            "predicted_high": high.ravel(),
            "p_value": p_value.ravel(),
        }
    )


def _segment_table(segments, arms, rate, n, y, seed, hdi_prob, prior_alpha, prior_beta) -> pd.DataFrame:
    """Per segment and treatment arm: raw (independent Beta) vs pooled lift, with probabilities."""
    draws = rate.shape[0]
    rng = np.random.default_rng(seed + 1)
    raw = rng.beta(prior_alpha + y, prior_beta + n - y, size=(draws, *y.shape))
    lifts = rate[:, :, 1:] - rate[:, :, :1]
    raw_lifts = raw[:, :, 1:] - raw[:, :, :1]
    best_arm = rate.argmax(axis=2)  # (draws, segment)
    largest = lifts.argmax(axis=1)  # (draws, treatment): which segment has the largest lift
    rows = []
    for s, segment in enumerate(segments):
        for k, arm in enumerate(arms[1:]):
            pooled, unpooled = lifts[:, s, k], raw_lifts[:, s, k]
            rows.append(
                {
                    "segment": segment,
                    "arm": arm,
                    "visitors_control": int(n[s, 0]),
                    "visitors_arm": int(n[s, k + 1]),
                    "raw_lift": unpooled.mean(),
                    "raw_hdi_low": hdi_from_draws(unpooled, hdi_prob)[0],
                    "raw_hdi_high": hdi_from_draws(unpooled, hdi_prob)[1],
                    "pooled_lift": pooled.mean(),
                    "pooled_hdi_low": hdi_from_draws(pooled, hdi_prob)[0],
                    "pooled_hdi_high": hdi_from_draws(pooled, hdi_prob)[1],
                    "prob_lift_positive": float((pooled > 0).mean()),
                    "prob_arm_best_in_segment": float((best_arm[:, s] == k + 1).mean()),
                    "prob_segment_has_largest_lift": float((largest[:, k] == s).mean()),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- Beta-Binomial, exact


@dataclass
class BetaBinomialPosterior:
    """Hyperposterior of (alpha, beta) on a grid in (log(alpha/beta), log(alpha+beta))."""

    u: np.ndarray  # grid of log(alpha / beta)
    v: np.ndarray  # grid of log(alpha + beta)
    weights: np.ndarray  # (len(u), len(v)) normalised posterior mass
    y: np.ndarray
    n: np.ndarray

    @property
    def alpha_beta(self) -> tuple[np.ndarray, np.ndarray]:
        uu, vv = np.meshgrid(self.u, self.v, indexing="ij")
        return np.exp(vv) * special.expit(uu), np.exp(vv) * special.expit(-uu)

    def mean(self) -> tuple[float, float]:
        a, b = self.alpha_beta
        return float((a * self.weights).sum()), float((b * self.weights).sum())

    def mode(self) -> tuple[float, float]:
        i, j = np.unravel_index(np.argmax(self.weights), self.weights.shape)
        return float(self.u[i]), float(self.v[j])

    def sample(self, draws: int, seed: int) -> dict[str, np.ndarray]:
        """Exact draws: (alpha, beta) from the grid (jittered within its cell), then each rate from
        its conjugate Beta(alpha + y, beta + n - y)."""
        rng = np.random.default_rng(seed)
        flat = rng.choice(self.weights.size, size=draws, p=self.weights.ravel())
        i, j = np.unravel_index(flat, self.weights.shape)
        du, dv = self.u[1] - self.u[0], self.v[1] - self.v[0]
        u = self.u[i] + rng.uniform(-du / 2, du / 2, draws)
        v = self.v[j] + rng.uniform(-dv / 2, dv / 2, draws)
        alpha, beta = np.exp(v) * special.expit(u), np.exp(v) * special.expit(-u)
        theta = rng.beta(alpha[:, None] + self.y, beta[:, None] + self.n - self.y)
        return {"alpha": alpha, "beta": beta, "theta": theta}


def _bb_log_posterior(u, v, y, n):
    """log p(u, v | y) up to a constant: BDA3 (5.8) with the Jacobian of (u, v) -> (alpha, beta)."""
    alpha, beta = np.exp(v) * special.expit(u), np.exp(v) * special.expit(-u)
    a, b = alpha[..., None], beta[..., None]
    loglik = (special.betaln(a + y, b + n - y) - special.betaln(a, b)).sum(axis=-1)
    return loglik + np.log(alpha) + np.log(beta) - 2.5 * np.log(alpha + beta)


def beta_binomial_grid(y, n, *, size: int = 241, width: float = 7.0) -> BetaBinomialPosterior:
    """Exact hyperposterior on a grid centred at the mode, `width` posterior sds on each side."""
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    if y.shape != n.shape or y.ndim != 1 or len(y) < 2:
        raise DataError("beta-binomial pooling needs matching 1-d successes and trials for >= 2 groups")
    if (y < 0).any() or (y > n).any():
        raise DataError("beta-binomial pooling: successes must satisfy 0 <= y <= n in every group")
    rate = (y.sum() + 0.5) / (n.sum() + 1)

    def neg(p):
        return -_bb_log_posterior(np.array(p[0]), np.array(p[1]), y, n)

    fit = optimize.minimize(
        neg,
        x0=[special.logit(rate), np.log(10.0)],
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
    )
    u0, v0 = fit.x
    h = 1e-3  # curvature along each axis sets the grid's extent
    sd = [
        1 / np.sqrt(max((neg(fit.x + e) - 2 * fit.fun + neg(fit.x - e)) / h**2, 1e-6))
        for e in (np.array([h, 0]), np.array([0, h]))
    ]
    u = np.linspace(u0 - width * sd[0], u0 + width * sd[0], size)
    v = np.linspace(v0 - width * sd[1], v0 + 2 * width * sd[1], size)  # log(alpha+beta) is right-skewed
    logp = _bb_log_posterior(*np.meshgrid(u, v, indexing="ij"), y, n)
    w = np.exp(logp - logp.max())
    return BetaBinomialPosterior(u, v, w / w.sum(), y, n)


def beta_binomial_nuts(y, n, settings: SamplerSettings) -> xr.DataTree:
    """The same hierarchy sampled with NUTS (rates integrated out: BetaBinomial likelihood)."""
    import pymc as pm

    y = np.asarray(y)
    n = np.asarray(n)
    with pm.Model() as model:
        u = pm.Flat("log_alpha_over_beta")
        v = pm.Flat("log_alpha_plus_beta")
        alpha = pm.Deterministic("alpha", pm.math.exp(v) * pm.math.sigmoid(u))
        beta = pm.Deterministic("beta", pm.math.exp(v) * pm.math.sigmoid(-u))
        pm.Potential("hyperprior", pm.math.log(alpha) + pm.math.log(beta) - 2.5 * pm.math.log(alpha + beta))
        pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n, observed=y)
    model.set_initval(u, float(special.logit((y.sum() + 0.5) / (n.sum() + 1))))
    model.set_initval(v, 2.0)
    return sample(model, settings)
