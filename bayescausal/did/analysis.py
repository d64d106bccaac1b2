"""`analyze`: a DiD panel to a decision, as the shared Result (effects, event study, refutations, ROI)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.did import plots
from bayescausal.did.event_study import event_study
from bayescausal.did.model import (
    DiDPosterior,
    cohort_table,
    cohorts,
    posterior_gaussian,
    posterior_student_t,
    predictive_check,
    within_estimator,
)
from bayescausal.did.panel import Panel
from bayescausal.errors import SpecError
from bayescausal.estimates import from_draws, hdi_from_draws
from bayescausal.result import Check, Result
from bayescausal.roi import Business, DecisionRule, decide_from_draws, summarise_roi
from bayescausal.sampling import SamplerSettings


@dataclass(frozen=True)
class DiDOptions:
    likelihood: Literal["gaussian", "student-t"] = "gaussian"
    pre_periods: int | None = None  # pre-period length per cohort (None: all periods before treatment)
    leads: int = 8  # event-study leads shown and checked
    lead_tolerance: float | None = None  # |lead| below this counts as parallel (None: 3 posterior sds)
    draws: int = 8000  # exact posterior draws (Gaussian)
    refutations: bool = True
    threshold: float = 0.01  # threshold of caring, relative to the treated units' pre-period mean outcome
    cost: float | None = None  # total cost of the treatment (campaign), currency
    margin_rate: float = 1.0
    hdi_prob: float = 0.94
    rule: DecisionRule = field(default_factory=DecisionRule)
    thresholds: diag.Thresholds = field(default_factory=diag.Thresholds)

    def __post_init__(self):
        if self.likelihood not in ("gaussian", "student-t"):
            raise SpecError(f"likelihood must be 'gaussian' or 'student-t', got '{self.likelihood}'")


def _posterior(groups, opt: DiDOptions, sampler: SamplerSettings) -> DiDPosterior:
    if opt.likelihood == "gaussian":
        return posterior_gaussian(groups, draws=opt.draws, seed=sampler.seed)
    return posterior_student_t(groups, sampler)


def analyze(
    panel: Panel,
    options: DiDOptions | None = None,
    sampler: SamplerSettings | None = None,
    *,
    inputs: dict | None = None,
    title: str | None = None,
) -> Result:
    opt = options or DiDOptions()
    sampler = sampler or SamplerSettings()
    t0 = time.perf_counter()
    groups = cohorts(panel, pre_periods=opt.pre_periods)
    post = _posterior(groups, opt, sampler)
    method_kind = "monte-carlo" if post.idata is None else "mcmc"
    # MCMC draws keep their (chain, draw) shape so each estimate's Monte-Carlo error uses its ESS
    chains = post.idata["posterior"].sizes["chain"] if post.idata is not None else 1
    estimates = {"att": from_draws(post.att.reshape(chains, -1), method=method_kind, hdi_prob=opt.hdi_prob)}
    if len(groups) > 1:
        for k, c in enumerate(groups):
            estimates[f"att_cohort_{c.label}"] = from_draws(
                post.cohort_effects[:, k].reshape(chains, -1), method=method_kind, hdi_prob=opt.hdi_prob
            )
    tables = {"cohorts": cohort_table(groups, post, opt.hdi_prob)}
    notes = [
        f"model: {post.method}; household and period effects removed exactly by unit-level post-minus-pre "
        "contrasts against never- or not-yet-treated controls (honest under any within-unit correlation)"
    ]
    checks: list[Check] = []
    figures = {}

    if len(groups) == 1:
        beta, se = within_estimator(_single_window(panel, groups[0], opt.pre_periods))
        att = estimates["att"]
        tables["reference"] = pd.DataFrame(
            {"estimate": [att.mean, beta], "sd / s.e.": [att.sd, se]},
            index=["posterior (this model)", "two-way fixed effects, household-clustered s.e."],
        ).rename_axis("method")
        notes.append(
            f"reference: within estimator {beta:.4g} (clustered s.e. {se:.3g}); posterior mean {att.mean:.4g}"
            f" (sd {att.sd:.3g}): difference {(att.mean - beta) / se:+.2f} s.e."
        )

    es = event_study(
        panel, groups[0], leads=opt.leads, tolerance=opt.lead_tolerance, seed=sampler.seed, hdi_prob=opt.hdi_prob
    )
    tables["event study"] = es.table
    if len(groups) > 1:
        notes.append(
            f"event study and placebo start date: the first cohort (periods {groups[0].label}); every "
            "cohort's own effect is in the cohorts table"
        )
    figures["Event study (leads = parallel-trends check)"] = partial(plots.event_study, es)
    if np.isfinite(es.prob_leads_within_tolerance):
        checks.append(
            Check(
                "parallel pre-trends (event-study leads)",
                es.prob_leads_within_tolerance >= 0.5,
                f"P(all {int((es.event_times < -1).sum())} leads within +-{es.tolerance:.3g}) = "
                f"{es.prob_leads_within_tolerance:.3f}",
                {"prob": es.prob_leads_within_tolerance, "tolerance": es.tolerance},
            )
        )
    if opt.refutations:
        checks += _refutations(panel, groups, opt, sampler)
    tables["pre-period balance"] = _balance(panel, groups[0])
    ppc = predictive_check(groups, seed=sampler.seed)
    tables["posterior predictive check"] = ppc
    figures["Posterior predictive check: unit contrasts"] = partial(plots.contrast_ppc, groups[0])
    extreme = ppc[(ppc["p_value"] < 0.005) | (ppc["p_value"] > 0.995)]
    checks.append(
        Check(
            "posterior predictive check (Gaussian contrasts)",
            extreme.empty,
            "observed quantiles and sd of the unit contrasts are typical of the Gaussian model"
            if extreme.empty
            else "extreme under the Gaussian model: "
            + ", ".join(f"{r.group} {r.statistic}" for r in extreme.itertuples())
            + " (heavy tails: the mean effect stays unbiased, but consider --likelihood student-t for a robust view)",
            {"n_extreme": len(extreme)},
        )
    )

    pre_mean = float(np.mean([panel.outcome[c.treated_units, : c.start].mean() for c in groups]))
    roi, decision = _money_and_decision(
        post.att,
        post.weights.sum(),
        pre_mean=pre_mean,
        cost=opt.cost,
        opt=opt,
        method=method_kind,
        ship_label="effective: repeat the campaign",
        reject_label="not effective: do not repeat",
    )
    incremental = roi.draws["incremental_revenue"]

    if post.idata is not None:
        diagnostics = diag.diagnose(
            post.idata,
            ["effect", "control_mean", "sigma", "nu"],
            opt.thresholds,
            method=f"NUTS ({sampler.sampler}), Student-t contrasts",
        )
    else:
        diagnostics = diag.exact("exact conjugate posterior, independent draws (nothing to converge)")
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {
                    "effect": (("chain", "draw", "cohort"), post.cohort_effects[None]),
                    "att": (("chain", "draw"), post.att[None]),
                },
                coords={"cohort": post.labels},
            ),
            "event_study": xr.Dataset(
                {"effect": (("chain", "draw", "event_time"), es.draws[None])}, coords={"event_time": es.event_times}
            ),
        }
    )
    if post.idata is not None:
        tree["student_t"] = post.idata
    ate = estimates["att"]
    lift = {
        "effect_per_unit_period": ate.mean,
        "sd": ate.sd,
        "treated_unit_periods": float(post.weights.sum()),
        "incremental_total": float(incremental.mean()),
        "incremental_total_sd": float(incremental.std()),
        "periods": [str(panel.periods[groups[0].start]), str(panel.periods[groups[-1].end])],
    }
    return Result(
        kind="did",
        title=title or f"Difference-in-differences: {panel.outcome_name}",
        decision=decision,
        estimates=estimates,
        diagnostics=diagnostics,
        checks=checks,
        roi=roi,
        posterior=tree,
        sampled=post.idata,
        tables=tables,
        figures=figures,
        notes=notes,
        extra={"lift_test": lift, "cohorts": tables["cohorts"].to_dict("records")},
        inputs=dict(inputs or {}) | {"seed": sampler.seed},
        timings={"total_s": time.perf_counter() - t0},
    )


def _money_and_decision(
    att,
    unit_periods: float,
    *,
    pre_mean: float,
    cost: float | None,
    opt: DiDOptions,
    method: str,
    ship_label: str,
    reject_label: str,
):
    """Incremental outcome = ATT x treated unit-periods, draw by draw; ROI; the decision on the ATT, with the
    threshold of caring relative to the treated units' pre-period mean outcome."""
    rule = replace(opt.rule, threshold_of_caring=opt.threshold * abs(pre_mean))
    roi = summarise_roi(att * unit_periods, Business(margin_rate=opt.margin_rate, cost=cost), rule, method=method)
    decision = decide_from_draws(
        att,
        rule,
        prob_roi=roi.prob_roi_above_hurdle,
        ship_label=ship_label,
        reject_label=reject_label,
        units=" per unit-period",
    )
    return roi, decision


def _single_window(panel: Panel, cohort, pre_periods: int | None) -> Panel:
    """The periods one cohort's contrast uses, for the reference within estimator."""
    lo = 0 if pre_periods is None else max(0, cohort.start - pre_periods)
    cols = slice(lo, cohort.end + 1)
    return Panel(panel.outcome[:, cols], panel.treated[:, cols], panel.units, panel.periods[cols])


def _refutations(panel: Panel, groups, opt: DiDOptions, sampler: SamplerSettings) -> list[Check]:
    """Placebo start dates in the pre-period, permuted treated sets, leave-one-period-out stability."""
    checks = []
    first = groups[0]
    length = first.end - first.start + 1
    if first.start >= 2 * length:  # a placebo window of the same length, ending before treatment starts
        fake = np.zeros_like(panel.treated)
        fake[first.treated_units, first.start - length : first.start] = True
        placebo = Panel(
            panel.outcome[:, : first.start], fake[:, : first.start], panel.units, panel.periods[: first.start]
        )
        checks.append(_near_zero("placebo start date (pre-period)", placebo, opt, sampler))
    rng = np.random.default_rng(sampler.seed + 7)
    shuffled = panel.treated.copy()
    shuffled[rng.permutation(len(panel.units))] = panel.treated
    checks.append(
        _near_zero(
            "placebo: permuted treated units", Panel(panel.outcome, shuffled, panel.units, panel.periods), opt, sampler
        )
    )
    base = posterior_gaussian(groups, draws=2000, seed=sampler.seed).att
    means = []
    for t in range(panel.shape[1]):
        keep = np.arange(panel.shape[1]) != t
        sub = Panel(panel.outcome[:, keep], panel.treated[:, keep], panel.units, panel.periods[keep])
        try:
            means.append(
                posterior_gaussian(cohorts(sub, pre_periods=opt.pre_periods), draws=2000, seed=sampler.seed).att.mean()
            )
        except Exception:  # dropping the only pre-period or treated period leaves no design: skip that period
            continue
    spread = (max(means) - min(means)) if means else 0.0
    checks.append(
        Check(
            "leave-one-period-out stability",
            spread <= 2 * base.std(),
            f"ATT posterior mean ranges over [{min(means):.4g}, {max(means):.4g}] when any single period is dropped "
            f"(posterior sd {base.std():.3g})",
            {"min": min(means), "max": max(means), "sd": float(base.std())},
        )
    )
    return checks


def _near_zero(name: str, panel: Panel, opt: DiDOptions, sampler: SamplerSettings) -> Check:
    att = posterior_gaussian(cohorts(panel, pre_periods=opt.pre_periods), draws=4000, seed=sampler.seed).att
    est = from_draws(att, method="monte-carlo", hdi_prob=opt.hdi_prob)
    ok = est.hdi_low <= 0 <= est.hdi_high
    return Check(
        name,
        ok,
        f"effect {est.mean:.4g}, {opt.hdi_prob:.0%} HDI [{est.hdi_low:.4g}, {est.hdi_high:.4g}]"
        + (" covers 0" if ok else " excludes 0: the design may be confounded"),
        {"mean": est.mean, "hdi_low": est.hdi_low, "hdi_high": est.hdi_high},
    )


def analyze_campaigns(
    tables: dict,
    options: DiDOptions | None = None,
    sampler: SamplerSettings | None = None,
    *,
    pre_weeks: int = 8,
    inputs: dict | None = None,
    title: str | None = None,
    mailer_cost_per_household: float | None = None,
) -> Result:
    """All Complete Journey campaigns, partially pooled within and across types (see did.campaigns).

    With `mailer_cost_per_household`, the cost is mailers plus coupon discounts used, summed over the
    campaigns analysed (the same campaigns the incremental revenue covers)."""
    from bayescausal.did.campaigns import campaign_contrasts, fit_pooled

    opt = options or DiDOptions()
    sampler = sampler or SamplerSettings()
    t0 = time.perf_counter()
    contrasts = campaign_contrasts(tables, pre_weeks=pre_weeks)
    used = contrasts[contrasts["skipped"] == ""].reset_index(drop=True)
    idata = fit_pooled(contrasts, sampler)
    post = idata["posterior"]
    by_chain = post["campaign_effect"].transpose("chain", "draw", "campaign").values
    weights = used["treated_unit_periods"].to_numpy(float)
    att_by_chain = by_chain @ (weights / weights.sum())  # (chain, draw): keeps the ESS-based MCSE honest
    estimates = {"att": from_draws(att_by_chain, hdi_prob=opt.hdi_prob)}
    for k, campaign in enumerate(used["campaign"]):
        estimates[f"att_campaign_{campaign}"] = from_draws(by_chain[..., k], hdi_prob=opt.hdi_prob)
    effect = by_chain.reshape(-1, by_chain.shape[-1])
    att = att_by_chain.ravel()
    for t in post["type"].values:
        estimates[f"att_type_{t}"] = from_draws(post["type_effect"].sel(type=t).values, hdi_prob=opt.hdi_prob)
    table = contrasts.copy()
    pooled = {
        str(c): (effect[:, k].mean(), *hdi_from_draws(effect[:, k], opt.hdi_prob))
        for k, c in enumerate(used["campaign"])
    }
    for i, col in enumerate(("pooled_mean", "pooled_hdi_low", "pooled_hdi_high")):
        table[col] = table["campaign"].astype(str).map(lambda c, i=i: pooled.get(c, (np.nan,) * 3)[i])
    diagnostics = diag.diagnose(
        idata,
        ["overall", "sigma_type", "sigma_campaign", "type_effect", "campaign_effect"],
        opt.thresholds,
        method=f"NUTS ({sampler.sampler}), campaign hierarchy",
    )
    cost = opt.cost
    cost_note = None
    if cost is None and mailer_cost_per_household is not None:
        from bayescausal.did.panel import campaign_cost

        parts = [campaign_cost(tables, int(c), per_household=mailer_cost_per_household) for c in used["campaign"]]
        cost = sum(p["total"] for p in parts)
        cost_note = (
            f"cost of the {len(parts)} campaigns analysed = mailers "
            f"{sum(p['mailers'] for p in parts):,.2f} + coupon discounts used "
            f"{sum(p['coupon_discounts'] for p in parts):,.2f} = {cost:,.2f}"
        )
    pre_mean = float(np.average(used["treated_pre_mean"], weights=weights))
    roi, decision = _money_and_decision(
        att,
        weights.sum(),
        pre_mean=pre_mean,
        cost=cost,
        opt=opt,
        method="mcmc",
        ship_label="campaigns pay: keep running them",
        reject_label="campaigns do not pay: cut or redesign",
    )
    skipped = contrasts[contrasts["skipped"] != ""]
    notes = [
        "each campaign: household post-minus-pre contrasts (pre-period "
        f"{pre_weeks} weeks), recipients vs households never or not yet treated by any campaign; its effect "
        "enters the hierarchy as a normal likelihood with the contrast's standard error",
        "pooling: campaign effect ~ N(type mean, sigma_campaign), type mean ~ N(overall, sigma_type), non-centred",
        "overall ATT = campaign effects weighted by treated household-weeks, draw by draw",
    ]
    if cost_note:
        notes.append(cost_note)
    if len(skipped):
        notes.append("skipped: " + "; ".join(f"campaign {r.campaign} ({r.skipped})" for r in skipped.itertuples()))
    return Result(
        kind="did",
        title=title or "All campaigns, partially pooled by type",
        decision=decision,
        estimates=estimates,
        diagnostics=diagnostics,
        roi=roi,
        posterior=idata,
        sampled=idata,
        tables={"campaigns": table},
        figures={"Campaign effects: raw vs pooled": partial(plots.campaign_forest, table)},
        notes=notes,
        extra={"campaigns": table.to_dict("records")},
        inputs=dict(inputs or {}) | {"seed": sampler.seed},
        timings={"total_s": time.perf_counter() - t0},
    )


def _balance(panel: Panel, cohort) -> pd.DataFrame:
    """Treated vs control units on pre-period covariates: who was targeted (DiD needs parallel trends, not
    balance, but a large gap says the groups differ and the pre-trend checks matter)."""
    cov = panel.pre_period_covariates(cohort.start)
    treated, control = cov.iloc[cohort.treated_units], cov.iloc[cohort.control_units]
    pooled_sd = np.sqrt((treated.var() + control.var()) / 2).replace(0, np.nan)
    return pd.DataFrame(
        {
            "treated mean": treated.mean(),
            "control mean": control.mean(),
            "standardised difference": (treated.mean() - control.mean()) / pooled_sd,
        }
    ).rename_axis("pre-period covariate")
