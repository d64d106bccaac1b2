"""`analyze`: one A/B test from validated data to a decision, as the shared Result.

Conversion is exact (conjugate Beta, closed-form ranking); revenue per user is the two-part model
(independent posterior draws, with Monte-Carlo errors); segments are partially pooled. The decision
uses the primary metric (revenue per user when revenue is present, else conversion).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.ab import plots
from bayescausal.ab.beta import (
    BetaPosterior,
    LiftDistribution,
    exact_ranking,
    monte_carlo_ranking,
    prob_b_beats_a,
)
from bayescausal.ab.data import arm_totals, segment_totals
from bayescausal.ab.hierarchy import beta_binomial_grid, fit_segment_lifts
from bayescausal.ab.revenue import fit_revenue
from bayescausal.ab.sequential import srm_pvalue
from bayescausal.errors import ConvergenceWarning, SpecError
from bayescausal.estimates import from_distribution, from_draws
from bayescausal.result import Check, Result
from bayescausal.roi import Business, DecisionRule, decide, summarise_roi
from bayescausal.sampling import SamplerSettings


@dataclass(frozen=True)
class ABOptions:
    """Model and decision options of an A/B analysis (all have sensible defaults)."""

    control: str | None = None  # default: the first arm in the data
    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    metric: Literal["auto", "conversion", "revenue"] = "auto"
    segments: Literal["logit-normal", "beta-binomial", "none"] = "logit-normal"
    threshold: float = 0.01  # threshold of caring on the expected loss
    threshold_relative: bool = True  # threshold as a fraction of the control's mean
    traffic: float | None = None  # users the decision will reach; default: the experiment's visitors
    value_per_conversion: float | None = None  # revenue per conversion when no revenue data is given
    allocation: tuple[float, ...] | None = None  # planned split for the SRM check; None = equal
    monte_carlo_draws: int = 20_000
    hdi_prob: float = 0.94
    monte_carlo_check: bool = False  # also report Monte-Carlo P(best) / expected loss with their MC errors
    thresholds: diag.Thresholds = field(default_factory=diag.Thresholds)
    rule: DecisionRule = field(default_factory=DecisionRule)
    business: Business = field(default_factory=Business)

    def __post_init__(self):
        if self.prior_alpha <= 0 or self.prior_beta <= 0:
            raise SpecError(f"Beta prior parameters must be > 0, got ({self.prior_alpha}, {self.prior_beta})")
        if self.metric not in ("auto", "conversion", "revenue"):
            raise SpecError(f"metric must be 'auto', 'conversion' or 'revenue', got '{self.metric}'")
        if self.segments not in ("logit-normal", "beta-binomial", "none"):
            raise SpecError(f"segments must be 'logit-normal', 'beta-binomial' or 'none', got '{self.segments}'")
        if self.threshold <= 0:
            raise SpecError(f"threshold of caring must be > 0, got {self.threshold}")


def _order_arms(totals: pd.DataFrame, control: str | None) -> pd.DataFrame:
    arms = list(totals.index)
    if control is None:
        return totals
    if control not in arms:
        raise SpecError(f"control arm '{control}' is not in the data; arms are {arms}")
    return totals.loc[[control] + [a for a in arms if a != control]]


def analyze(
    data: pd.DataFrame,
    options: ABOptions | None = None,
    sampler: SamplerSettings | None = None,
    *,
    inputs: dict | None = None,
) -> Result:
    """Analyse validated A/B data (see `bayescausal.ab.data.validate_aggregated`)."""
    opt = options or ABOptions()
    sampler = sampler or SamplerSettings()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    totals = _order_arms(arm_totals(data), opt.control)
    arms = list(totals.index)
    control = arms[0]
    n = totals["visitors"].to_numpy(float)
    y = totals["conversions"].to_numpy(float)
    alpha, beta = opt.prior_alpha + y, opt.prior_beta + n - y
    posts = [BetaPosterior(a, b) for a, b in zip(alpha, beta, strict=True)]
    prob_best, loss = exact_ranking(alpha, beta)
    estimates = {
        f"rate_{arm}": from_distribution(p, hdi_prob=opt.hdi_prob, signed=False)
        for arm, p in zip(arms, posts, strict=True)
    }
    for k, arm in enumerate(arms[1:], start=1):
        estimates[f"lift_{arm}"] = from_distribution(LiftDistribution(posts[0], posts[k]), hdi_prob=opt.hdi_prob)
        estimates[f"relative_lift_{arm}"] = from_distribution(
            LiftDistribution(posts[0], posts[k], relative=True), hdi_prob=opt.hdi_prob
        )
    arms_json = {
        arm: {
            "posterior_mean": posts[k].mean(),
            "prob_best": float(prob_best[k]),
            "expected_loss": float(loss[k]),
            "visitors": int(n[k]),
            "conversions": int(y[k]),
        }
        for k, arm in enumerate(arms)
    }
    timings["conversion_exact_s"] = time.perf_counter() - t0
    if opt.monte_carlo_check:
        mc = monte_carlo_ranking(alpha, beta, draws=opt.monte_carlo_draws, seed=sampler.seed)
        for k, arm in enumerate(arms):
            arms_json[arm] |= {
                f"mc_{key}": float(mc[key][k])
                for key in ("prob_best", "prob_best_mcse", "expected_loss", "expected_loss_mcse")
            }

    rng = np.random.default_rng(sampler.seed)
    draws = opt.monte_carlo_draws
    rate_draws = rng.beta(alpha, beta, size=(draws, len(arms)))
    posterior_vars = {"rate": (("chain", "draw", "arm"), rate_draws[None])}
    notes = [
        "conversion: exact conjugate Beta posteriors; P(best) and expected loss in closed form"
        if len(arms) == 2
        else "conversion: exact conjugate Beta posteriors; P(best) and expected loss by deterministic quadrature"
    ]
    checks: list[Check] = []
    figures = {
        "Conversion rate posteriors": partial(plots.rate_posteriors, arms, posts),
        "Lift over control": partial(plots.lift_posteriors, arms, posts),
    }

    revenue = None
    if "revenue" in totals.columns:
        t1 = time.perf_counter()
        revenue = fit_revenue(
            totals, prior_alpha=opt.prior_alpha, prior_beta=opt.prior_beta, draws=draws, seed=sampler.seed
        )
        rpu = revenue.per_user
        rank = revenue.ranking()
        for k, arm in enumerate(arms):
            estimates[f"revenue_per_user_{arm}"] = from_draws(rpu[:, k], method="monte-carlo", signed=False)
            arms_json[arm] |= {
                "revenue_per_user_mean": float(rpu[:, k].mean()),
                "revenue_prob_best": float(rank["prob_best"][k]),
                "revenue_prob_best_mcse": float(rank["prob_best_mcse"][k]),
                "revenue_expected_loss": float(rank["expected_loss"][k]),
                "revenue_expected_loss_mcse": float(rank["expected_loss_mcse"][k]),
            }
            if k:
                estimates[f"revenue_lift_{arm}"] = from_draws(rpu[:, k] - rpu[:, 0], method="monte-carlo")
        notes.append(
            f"revenue per user: {revenue.method}; P(best) and expected loss from {draws:,} independent "
            "posterior draws (Monte-Carlo standard errors in the arms table)"
        )
        notes += revenue.warnings
        for arm, pv in revenue.ppc.items():
            misfit = revenue.ppc_misfit.get(arm, [])
            checks.append(
                Check(
                    f"order-value PPC ({arm})",
                    not misfit,
                    (
                        "lognormal order values reproduce the observed mean and sd"
                        if not misfit
                        else f"observed {', '.join(misfit)} of order values is extreme under the lognormal model: "
                        "revenue per user may be biased; consider the normal approximation or a heavier-tailed model"
                    ),
                    {"p_values": pv},
                )
            )
        posterior_vars |= {
            "order_value": (("chain", "draw", "arm"), revenue.order_value[None]),
            "revenue_per_user": (("chain", "draw", "arm"), rpu[None]),
        }
        figures["Revenue per user"] = partial(plots.draw_densities, arms, rpu, "revenue per user")
        if revenue.ppc_draws:
            figures["Posterior predictive check: order values"] = partial(
                plots.order_value_ppc, revenue.ppc_draws, revenue.ppc_observed
            )
        timings["revenue_s"] = time.perf_counter() - t1

    metric = opt.metric if opt.metric != "auto" else ("revenue" if revenue is not None else "conversion")
    if metric == "revenue" and revenue is None:
        raise SpecError("metric 'revenue' needs revenue columns (revenue, revenue_sq) or event rows with revenue")

    # the decision on the primary metric: best non-control candidate against keeping the control
    if metric == "conversion":
        m_loss = loss
        candidate = 1 + int(np.argmin(m_loss[1:]))
        prob_positive = prob_b_beats_a(alpha[0], beta[0], alpha[candidate], beta[candidate])
        control_mean, units = posts[0].mean(), " (rate)"
    else:
        m_loss = rank["expected_loss"]
        candidate = 1 + int(np.argmin(m_loss[1:]))
        prob_positive = float(np.mean(rpu[:, candidate] > rpu[:, 0]))
        control_mean, units = float(rpu[:, 0].mean()), " per user"
    eps = opt.threshold * control_mean if opt.threshold_relative else opt.threshold
    rule = DecisionRule(opt.rule.min_prob_positive, opt.rule.hurdle_roi, opt.rule.min_prob_roi, eps)

    traffic = opt.traffic if opt.traffic is not None else float(n.sum())
    per_user_value = None
    if revenue is not None:
        per_user_value = rpu[:, candidate] - rpu[:, 0]
    elif opt.value_per_conversion is not None:
        per_user_value = (rate_draws[:, candidate] - rate_draws[:, 0]) * opt.value_per_conversion
    roi = None
    if per_user_value is not None:
        roi = summarise_roi(per_user_value * traffic, opt.business, rule, method="monte-carlo")
        notes.append(
            f"revenue impact = lift in revenue per user of '{arms[candidate]}' x {traffic:,.0f} users"
            + (" (the experiment's own traffic; set `traffic` for the rollout)" if opt.traffic is None else "")
        )
    elif opt.business.cost is not None:
        raise SpecError("a cost was given but no revenue: add revenue columns or `value_per_conversion`")
    decision = decide(
        prob_positive=prob_positive,
        loss_ship=float(m_loss[candidate]),
        loss_reject=float(m_loss[0]),
        rule=rule,
        prob_roi=roi.prob_roi_above_hurdle if roi else None,
        ship_label=f"ship {arms[candidate]}",
        reject_label="keep control",
        units=units,
    )
    decision.criteria |= {"metric": metric, "candidate": arms[candidate]}

    p_srm = srm_pvalue(n, opt.allocation)
    checks.insert(
        0,
        Check(
            "sample ratio mismatch",
            p_srm >= 1e-3,
            f"observed split {dict(zip(arms, n.astype(int).tolist(), strict=True))}, chi-square p = {p_srm:.3g}"
            + ("" if p_srm >= 1e-3 else ": the assignment is broken; do not trust this result"),
            {"p_value": p_srm},
        ),
    )
    if p_srm < 1e-3:
        decision.action, decision.reason = "halt: sample ratio mismatch", checks[0].detail

    diagnostics = diag.exact("exact conjugate posteriors and independent draws (nothing to converge)")
    sampled = None
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(posterior_vars, coords={"arm": arms})})
    tables = {"arms": pd.DataFrame(arms_json).T}
    extra = {"arms": arms_json, "metric": metric, "control": control}
    if per_user_value is not None:  # a lift measurement a marketing-mix model can calibrate against
        extra["lift_test"] = {
            "arm": arms[candidate],
            "effect_per_user": float(per_user_value.mean()),
            "sd": float(per_user_value.std()),
            "users": traffic,
            "incremental_total": float(roi.incremental_revenue.mean),
            "incremental_total_sd": roi.incremental_revenue.sd,
        }

    if "segment" in data.columns and opt.segments != "none":
        t2 = time.perf_counter()
        seg = segment_totals(data)
        if opt.segments == "logit-normal":
            pooled = fit_segment_lifts(
                seg, arms, sampler, hdi_prob=opt.hdi_prob, prior_alpha=opt.prior_alpha, prior_beta=opt.prior_beta
            )
            diagnostics = diag.diagnose(
                pooled.posterior,
                ["base", "lift", "tau", "segment_lift"],
                opt.thresholds,
                method=f"NUTS ({sampler.sampler}), segment hierarchy",
            )
            tree["segments"] = sampled = pooled.posterior
            if not diagnostics.passed:
                warnings.warn(
                    "segment hierarchy NOT CONVERGED: " + "; ".join(diagnostics.problems),
                    ConvergenceWarning,
                    stacklevel=2,
                )
            for arm in arms[1:]:
                tau = pooled.posterior["posterior"]["tau"].sel(treatment=arm).values
                estimates[f"segment_spread_{arm}"] = from_draws(tau, signed=False)  # (chain, draw): MCSE from its ESS
            tables["segments"], tables["segment_spread"] = pooled.table, pooled.spread
            inside = (pooled.ppc["observed"] >= pooled.ppc["predicted_low"]) & (
                pooled.ppc["observed"] <= pooled.ppc["predicted_high"]
            )
            checks.append(
                Check(
                    "segment model PPC",
                    bool(inside.mean() >= 0.8),
                    f"{inside.mean():.0%} of segment x arm conversion counts fall inside their 94% posterior "
                    "predictive interval (expect about 94%; below 80% means the hierarchy misfits)",
                    {"coverage": float(inside.mean())},
                )
            )
            figures["Posterior predictive check: segment conversions"] = partial(plots.segment_ppc, pooled.ppc)
            notes.append(
                f"segments: {pooled.method}; per-segment lifts shrink toward the common lift by the "
                "learned between-segment spread (tau, log-odds)"
            )
        else:
            tables["segments"] = _beta_binomial_segments(seg, arms, sampler.seed, opt.hdi_prob, draws)
            notes.append("segments: Beta-Binomial hierarchy per arm, hyperposterior by exact grid quadrature")
        extra["segments"] = tables["segments"].to_dict("records")
        figures["Segment lifts: raw vs pooled"] = partial(plots.segment_forest, tables["segments"])
        timings["segments_s"] = time.perf_counter() - t2

    timings["total_s"] = time.perf_counter() - t0
    title = f"A/B test: {', '.join(arms[1:])} vs {control}"
    return Result(
        kind="ab",
        title=title,
        decision=decision,
        estimates=estimates,
        diagnostics=diagnostics,
        checks=checks,
        roi=roi,
        posterior=tree,
        sampled=sampled,
        tables=tables,
        figures=figures,
        notes=notes,
        extra=extra,
        inputs=dict(inputs or {}) | {"seed": sampler.seed},
        timings=timings,
    )


def _beta_binomial_segments(seg: pd.DataFrame, arms: list[str], seed: int, hdi_prob: float, draws: int):
    """Per arm, pool the segment rates with the exact Beta-Binomial hierarchy; lifts draw by draw."""
    from bayescausal.estimates import hdi_from_draws

    segments = list(dict.fromkeys(seg["segment"]))
    wide = seg.pivot_table(
        index="segment", columns="arm", values=["visitors", "conversions"], aggfunc="sum", fill_value=0
    ).reindex(segments)
    theta = np.stack(
        [
            beta_binomial_grid(wide["conversions"][arm].to_numpy(), wide["visitors"][arm].to_numpy()).sample(
                draws, seed + k
            )["theta"]
            for k, arm in enumerate(arms)
        ],
        axis=-1,
    )  # (draws, segment, arm)
    rows = []
    for s, segment in enumerate(segments):
        for k, arm in enumerate(arms[1:], start=1):
            lift = theta[:, s, k] - theta[:, s, 0]
            low, high = hdi_from_draws(lift, hdi_prob)
            raw = wide["conversions"][arm].iloc[s] / max(wide["visitors"][arm].iloc[s], 1) - wide["conversions"][
                arms[0]
            ].iloc[s] / max(wide["visitors"][arms[0]].iloc[s], 1)
            rows.append(
                {
                    "segment": segment,
                    "arm": arm,
                    "raw_lift": raw,
                    "pooled_lift": lift.mean(),
                    "pooled_hdi_low": low,
                    "pooled_hdi_high": high,
                    "prob_lift_positive": float((lift > 0).mean()),
                    "prob_arm_best_in_segment": float((theta[:, s].argmax(axis=1) == k).mean()),
                }
            )
    return pd.DataFrame(rows)
