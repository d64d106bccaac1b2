"""Revenue per user as a two-part (hurdle) model: P(purchase) x mean order value; with refunds (net revenue
below zero for some users) a three-part model: P(purchase) x mean order value - P(net refund) x mean refund.

The purchase rate has its exact Beta posterior. The order value is lognormal with the conjugate
Normal-Inverse-Gamma posterior on log values when log sufficient statistics are available (event
rows give them), else a large-sample normal approximation on (sum, sum of squares). Revenue per user
has no closed form, so P(best) and expected loss come from independent posterior draws, each with
its Monte-Carlo standard error. A posterior predictive check compares the observed mean and sd of
order values with the lognormal's predictions and says when it does not fit. Refunds get the same
lognormal model on their size, and the three user states (bought, refunded, neither) a Dirichlet posterior.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayescausal.ab.beta import rank_draws
from bayescausal.diagnostics import ppc_flagged, ppc_pvalues
from bayescausal.errors import DataError

LOGNORMAL = "lognormal order value (conjugate Normal-Inverse-Gamma on log values)"
_PPC_MAX_VALUES = 2_000
FLOAT32_MAX_LOG = 80.0  # exp(88.7) overflows single precision
NORMAL_APPROX = "normal approximation on order-value sufficient statistics (large-sample)"


@dataclass
class RevenuePosterior:
    arms: list[str]
    method: str
    conversion: np.ndarray  # (draws, K) purchase probability
    order_value: np.ndarray  # (draws, K) mean order value
    ppc: dict[str, dict[str, float]] = field(default_factory=dict)  # arm -> statistic -> p-value
    ppc_misfit: dict[str, list[str]] = field(default_factory=dict)
    ppc_draws: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # arm -> statistic -> replicates
    ppc_observed: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    refund_rate: np.ndarray | None = None  # (draws, K) P(a user's net revenue < 0), with refunds only
    refund_value: np.ndarray | None = None  # (draws, K) mean size of a net refund

    @property
    def per_user(self) -> np.ndarray:
        """Net revenue per user: purchases less refunds, draw by draw."""
        gross = self.conversion * self.order_value
        return gross if self.refund_rate is None else gross - self.refund_rate * self.refund_value

    def ranking(self) -> dict[str, np.ndarray]:
        """P(best) and expected loss (currency per user) with Monte-Carlo standard errors."""
        return rank_draws(self.per_user)


def fit_revenue(
    totals: pd.DataFrame,
    *,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
    draws: int = 20_000,
    seed: int = 0,
    ppc_draws: int = 2_000,
) -> RevenuePosterior:
    """Posterior draws of revenue per user for each arm from per-arm sufficient statistics."""
    if "revenue" not in totals.columns:
        raise DataError("revenue per user needs 'revenue' and 'revenue_sq' columns (or event rows with revenue).")
    rng = np.random.default_rng(seed)
    n = totals["visitors"].to_numpy(float)
    m = totals["purchasers"].to_numpy(float)
    refunds = "refunders" in totals.columns and totals["refunders"].sum() > 0
    if refunds:  # bought / refunded / neither: Dirichlet(alpha, alpha, beta) updated by the counts
        r = totals["refunders"].to_numpy(float)
        g = rng.standard_gamma(np.stack([prior_alpha + m, prior_alpha + r, prior_beta + n - m - r]), (draws, 3, len(n)))
        share = g / g.sum(axis=1, keepdims=True)
        conversion, refund_rate = share[:, 0], share[:, 1]
    else:
        conversion = rng.beta(prior_alpha + m, prior_beta + n - m, size=(draws, len(n)))
    use_lognormal = {"log_revenue", "log_revenue_sq"} <= set(totals.columns)
    post = RevenuePosterior(
        arms=list(totals.index),
        method=LOGNORMAL if use_lognormal else NORMAL_APPROX,
        conversion=conversion,
        order_value=np.empty_like(conversion),
    )
    if use_lognormal:
        _lognormal(totals, rng, post, ppc_draws)
    else:
        _normal_approx(totals, rng, post)
    if refunds:
        post.refund_rate = refund_rate
        post.refund_value = _refund_sizes(totals, rng, draws, use_lognormal)
        post.method = "net revenue = purchases - refunds; " + post.method + ", and the same model for refund sizes"
    return post


def _refund_sizes(totals: pd.DataFrame, rng: np.random.Generator, draws: int, lognormal: bool) -> np.ndarray:
    """Mean size of a net refund per arm: the lognormal (or normal approximation) of order values, on refunds."""
    r = totals["refunders"].to_numpy(float)
    if lognormal:
        mu, sigma2, _ = _lognormal_draws(
            r, totals["log_refund"].to_numpy(float), totals["log_refund_sq"].to_numpy(float), rng, draws
        )
        return np.exp(mu + sigma2 / 2)
    s1, s2 = totals["refund"].to_numpy(float), totals["refund_sq"].to_numpy(float)
    safe = np.maximum(r, 2.0)
    var = np.maximum((s2 - s1**2 / safe) / (safe - 1), 0.0)
    return rng.normal(np.divide(s1, np.maximum(r, 1.0)), np.sqrt(var / safe), size=(draws, r.size))


def purchase_sums(totals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sum and sum of squares of the positive (purchase) values: net revenue plus refunds, where refunds exist."""
    rev, rev_sq = totals["revenue"].to_numpy(float), totals["revenue_sq"].to_numpy(float)
    if "refund" in totals.columns:
        return rev + totals["refund"].to_numpy(float), rev_sq - totals["refund_sq"].to_numpy(float)
    return rev, rev_sq


def _lognormal_draws(m: np.ndarray, s1: np.ndarray, s2: np.ndarray, rng: np.random.Generator, draws: int):
    """Conjugate Normal-Inverse-Gamma draws (mu, sigma^2, kn) of log values from counts and log sums. Weak
    prior: centred on the pooled log value, worth 0.01 of an observation; IG(1, 0.5) on sigma^2."""
    m0 = s1.sum() / max(m.sum(), 1.0)
    k0, a0, b0 = 0.01, 1.0, 0.5
    mean_log = np.divide(s1, m, out=np.full_like(s1, m0), where=m > 0)
    ss = np.maximum(s2 - m * mean_log**2, 0.0)
    kn = k0 + m
    mn = (k0 * m0 + s1) / kn
    an = a0 + m / 2
    bn = b0 + ss / 2 + k0 * m * (mean_log - m0) ** 2 / (2 * kn)
    sigma2 = bn / rng.gamma(an, 1.0, size=(draws, m.size))
    return rng.normal(mn, np.sqrt(sigma2 / kn)), sigma2, kn


def _lognormal(totals: pd.DataFrame, rng: np.random.Generator, post: RevenuePosterior, ppc_draws: int) -> None:
    m = totals["purchasers"].to_numpy(float)
    draws = post.conversion.shape[0]
    mu, sigma2, _ = _lognormal_draws(
        m, totals["log_revenue"].to_numpy(float), totals["log_revenue_sq"].to_numpy(float), rng, draws
    )
    post.order_value[:] = np.exp(mu + sigma2 / 2)
    # PPC: replicate each arm's m order values; compare their mean and sd with the observed ones
    if "revenue" not in totals.columns:
        return
    rev, rev_sq = purchase_sums(totals)
    for k, arm in enumerate(post.arms):
        mk = int(m[k])
        if mk < 5:
            post.warnings.append(f"arm '{arm}': only {mk} purchases, too few to check the order-value model")
            continue
        idx = rng.integers(0, draws, size=ppc_draws)
        mu_k, s2_k = mu[idx, k], sigma2[idx, k]
        size = min(mk, _PPC_MAX_VALUES)
        # exp(mu + sigma z) in single precision, its moments accumulated in double: a replicated sd needs no
        # more digits, and numpy's lognormal with a parameter per row is 4x slower (it is Monte-Carlo anyway)
        single = float(np.max(mu_k + 8 * np.sqrt(s2_k))) < FLOAT32_MAX_LOG  # else the values overflow float32
        kind = np.float32 if single else np.float64
        z = rng.standard_normal((ppc_draws, size), dtype=kind)
        y = np.exp(mu_k[:, None].astype(kind) + np.sqrt(s2_k)[:, None].astype(kind) * z)
        rep_sd = y.std(axis=1, dtype=np.float64)  # from at most _PPC_MAX_VALUES values: conservative for larger arms
        if size == mk:
            rep_mean = y.mean(axis=1, dtype=np.float64)
        else:  # the mean of mk lognormal values, by the central limit theorem
            mean_k = np.exp(mu_k + s2_k / 2)
            sd_k = np.sqrt(np.expm1(s2_k)) * mean_k
            rep_mean = mean_k + sd_k / np.sqrt(mk) * rng.standard_normal(ppc_draws)
        observed_mean = rev[k] / mk
        observed_sd = np.sqrt(max(rev_sq[k] / mk - observed_mean**2, 0.0))
        post.ppc_observed[arm] = {"mean": observed_mean, "sd": observed_sd}
        post.ppc_draws[arm] = {"mean": rep_mean, "sd": rep_sd}
        pv = ppc_pvalues(post.ppc_observed[arm], post.ppc_draws[arm])
        post.ppc[arm] = pv
        flagged = ppc_flagged(pv)
        if flagged:
            post.ppc_misfit[arm] = flagged


def _normal_approx(totals: pd.DataFrame, rng: np.random.Generator, post: RevenuePosterior) -> None:
    m = totals["purchasers"].to_numpy(float)
    if (m < 2).any():
        bad = [a for a, mk in zip(post.arms, m, strict=True) if mk < 2]
        raise DataError(
            f"revenue per user: arm(s) {bad} have fewer than 2 purchases; the normal approximation "
            "needs at least 2 (give event rows for the lognormal model, or wait for more data)."
        )
    rev, rev_sq = purchase_sums(totals)
    var = np.maximum((rev_sq - rev**2 / m) / (m - 1), 0.0)
    post.order_value[:] = rng.normal(rev / m, np.sqrt(var / m), size=post.order_value.shape)
    small = [a for a, mk in zip(post.arms, m, strict=True) if mk < 100]
    if small:
        post.warnings.append(
            f"arm(s) {small} have fewer than 100 purchases: the normal approximation of the mean "
            "order value may be poor for skewed spend; prefer event rows (lognormal model)"
        )
