"""`analyze`: a DiD panel to a decision, as the shared Result (effects, event study, refutations, ROI)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.data.panel import Panel, require_exact
from bayescausal.did import plots
from bayescausal.did.decide import LABELS, balance, finish, money_and_decision, pretrend_check, sensitivity_check
from bayescausal.did.event_study import event_study
from bayescausal.did.model import (
    DiDPosterior,
    cohort_moments,
    cohort_table,
    cohorts,
    posterior_gaussian,
    posterior_student_t,
    predictive_check,
    shares_scale,
    within_estimator,
)
from bayescausal.did.options import DiDOptions
from bayescausal.did.placebo import permutation_placebo
from bayescausal.did.pretrend import linear_pretrend
from bayescausal.did.stability import PeriodDropper
from bayescausal.errors import DataError
from bayescausal.estimates import from_draws, hdi_from_draws
from bayescausal.family import quiet
from bayescausal.result import Check, LiftTest, Parts, Result

PLACEBO_TAIL = 0.005  # a placebo effect with P(> 0) outside [0.5%, 99.5%] fails the check

MAX_EXACT_DRAWS = 512_000


def _posterior(groups, opt: DiDOptions, money) -> DiDPosterior:
    """The exact posterior, with more draws (4x at a time, up to MAX_EXACT_DRAWS) while Monte-Carlo error
    could flip the verdict: exact draws are cheap, so the verdict never hangs on the seed."""
    if opt.likelihood != "gaussian":
        return posterior_student_t(groups, opt.sampler)
    draws = opt.draws
    post = posterior_gaussian(groups, draws=draws, seed=opt.sampler.seed)
    while draws < MAX_EXACT_DRAWS and money(post.att, post.weights.sum(), method="monte-carlo")[1].criteria.get(
        "monte_carlo_fragile"
    ):
        draws = min(4 * draws, MAX_EXACT_DRAWS)
        post = posterior_gaussian(groups, draws=draws, seed=opt.sampler.seed)
    return post


def analyze(panel: Panel, options: DiDOptions | None = None, *, cost: dict | None = None) -> Result:
    """ATT (and per-cohort effects) with the event study, refutations, balance, PPC and the ROI.
    `cost`: a Complete Journey campaign's cost breakdown (mailers + coupon discounts), used when no
    total cost was given."""
    from bayescausal.did.hierarchical_analysis import analyze_hierarchical, choose_model

    opt = options or DiDOptions()
    total_cost = opt.cost if opt.cost is not None else (cost["total"] if cost else None)
    model, why = choose_model(panel, opt)
    if model == "hierarchical":
        if opt.likelihood != "gaussian":
            raise DataError(
                f"DiD: this panel needs the hierarchical model ({why}), whose errors are Gaussian AR(1); "
                "--likelihood student-t needs the exact model on a balanced panel"
            )
        return analyze_hierarchical(panel, opt, cost=total_cost, why=why)
    require_exact(panel)
    parts = Parts()
    parts.extra["model"] = {"name": "exact", "why": why}
    skipped: list[str] = []
    groups = cohorts(panel, pre_periods=opt.pre_periods, skipped=skipped)
    parts.notes.extend(f"staggered design: {why}" for why in skipped)
    pre_mean = float(np.mean([panel.outcome[c.treated_units, : c.start].mean() for c in groups]))
    money = partial(money_and_decision, pre_mean=pre_mean, cost=total_cost, opt=opt, **LABELS)
    post = _posterior(groups, opt, money)
    method = "monte-carlo" if post.idata is None else "mcmc"
    _effects(panel, groups, post, opt, parts, method)
    es = event_study(
        panel,
        main_cohort(groups),
        leads=opt.leads,
        tolerance=opt.lead_tolerance,
        seed=opt.sampler.seed,
        hdi_prob=opt.hdi_prob,
    )
    _design_checks(panel, groups, es, opt, parts)
    matters = max(abs(parts.estimates["att"].centre), opt.threshold * abs(pre_mean))
    parts.checks.insert(1 if np.isfinite(es.zero_tail_prob) else 0, _power_check(panel, groups, post, opt, matters))
    _propose_holdout(main_cohort(groups), opt.threshold * abs(pre_mean), parts)
    if cost and opt.cost is None:
        parts.notes.append(
            f"cost = mailers {cost['mailers']:,.2f} + coupon discounts used {cost['coupon_discounts']:,.2f}"
            f" = {cost['total']:,.2f} ({cost['recipients']:,.0f} recipient households)"
        )
    chains = post.idata["posterior"].sizes["chain"] if post.idata is not None else 1
    roi, decision = money(
        post.att.reshape(chains, -1) if chains > 1 else post.att,
        post.weights.sum(),
        method=method,
        finite_moments=post.finite_moments,
    )
    sensitivity_check(
        post.att, es, lambda draws: money(draws, post.weights.sum(), method=method)[1].verdict == "act", opt, parts
    )
    if len(post.att) > opt.draws:
        parts.notes.append(
            f"{len(post.att):,} exact posterior draws (not {opt.draws:,}): with fewer, Monte-Carlo error could "
            "have flipped the verdict"
        )
    diagnostics = _diagnostics(post, opt)
    parts.extra["cohorts"] = parts.tables["cohorts"].to_dict("records")
    window = f"periods {panel.periods[groups[0].start]}..{panel.periods[groups[-1].end]}"
    tree = _posterior_tree(post, es)
    return finish(parts, panel, decision, diagnostics, roi, post.weights.sum(), window, tree, post.idata)


def _effects(panel: Panel, groups, post: DiDPosterior, opt: DiDOptions, parts: Parts, method: str) -> None:
    """ATT and cohort effects; with one cohort, the two-way fixed-effects estimate beside it."""
    # MCMC draws keep their (chain, draw) shape so each estimate's Monte-Carlo error uses its ESS
    chains = post.idata["posterior"].sizes["chain"] if post.idata is not None else 1
    parts.estimates["att"] = from_draws(
        post.att.reshape(chains, -1), method=method, hdi_prob=opt.hdi_prob, finite_moments=post.finite_moments
    )
    if len(groups) > 1:
        for k, c in enumerate(groups):
            moments = 2 if post.idata is not None else cohort_moments(c)
            parts.estimates[f"att_cohort_{c.label}"] = from_draws(
                post.cohort_effects[:, k].reshape(chains, -1),
                method=method,
                hdi_prob=opt.hdi_prob,
                finite_moments=moments,
            )
    if post.finite_moments < 2:
        parts.checks.append(_heavy_tails_check(post))
    parts.tables["cohorts"] = cohort_table(groups, post, opt.hdi_prob)
    parts.notes.append(
        f"model: {post.method} ({parts.extra['model']['why']}); household and period effects removed exactly by "
        "unit-level post-minus-pre "
        "contrasts against never- or not-yet-treated controls (honest under any within-unit correlation)"
    )
    if len(groups) > 1:
        return
    beta, se = within_estimator(_single_window(panel, groups[0], opt.pre_periods))
    att = parts.estimates["att"]
    centre = "mean" if np.isfinite(att.mean) else "median (it has no mean)"
    spread = "sd" if np.isfinite(att.sd) else "sd from its 94% interval"
    parts.tables["reference"] = pd.DataFrame(
        {"estimate": [att.centre, beta], "sd / s.e.": [att.spread, se]},
        index=["posterior (this model)", "two-way fixed effects, household-clustered s.e."],
    ).rename_axis("method")
    parts.notes.append(
        f"reference: within estimator {beta:.4g} (clustered s.e. {se:.3g}); posterior {centre} {att.centre:.4g}"
        f" ({spread} {att.spread:.3g}): difference {(att.centre - beta) / se:+.2f} s.e."
    )


def _heavy_tails_check(post: DiDPosterior) -> Check:
    """Gating: with so few units that the effect's posterior is Student-t with nu <= 2 degrees of freedom, it
    has no variance (nu <= 2) or no mean (nu <= 1), so neither the expected loss the decision weighs nor a lift
    test's sd exists; the median and the intervals are what the data say."""
    lacks = "no mean and no sd" if post.finite_moments < 1 else "a mean but no sd"
    return Check(
        "enough units to estimate the noise",
        False,
        f"the effect's posterior is Student-t with {post.tail_df:g} degree(s) of freedom, so it has {lacks}; "
        "the published centre is the median, the spread comes from the 94% interval, and the expected loss the "
        "decision rule weighs does not exist",
        {"degrees_of_freedom": post.tail_df, "finite_moments": post.finite_moments},
        gating=True,
        next_step="add control units (each adds a degree of freedom to the shared noise scale), or randomise a "
        "holdout among the treated units",
    )


def _design_checks(panel: Panel, groups, es, opt: DiDOptions, parts: Parts) -> None:
    """Event study (pre-trends), refutations, balance and the predictive check."""
    parts.tables["event study"] = es.table
    if len(groups) > 1:
        parts.notes.append(
            "event study, placebo start date and balance: the largest cohort (periods "
            f"{main_cohort(groups).label}); every cohort's own effect is in the cohorts table"
        )
    parts.figure("Event study (leads = parallel-trends check)", partial(plots.event_study, es))
    if np.isfinite(es.zero_tail_prob):
        parts.checks.append(pretrend_check(es))
    if opt.refutations:
        parts.checks.extend(_refutations(panel, groups, opt))
    parts.tables["pre-period balance"] = balance(panel, main_cohort(groups))
    ppc = predictive_check(groups, seed=opt.sampler.seed)
    parts.tables["posterior predictive check"] = ppc
    parts.figure("Posterior predictive check: unit contrasts", partial(plots.contrast_ppc, main_cohort(groups)))
    extreme = ppc[(ppc["p_value"] < 0.005) | (ppc["p_value"] > 0.995)]
    parts.checks.append(
        Check(
            "posterior predictive check (Gaussian contrasts)",
            extreme.empty,
            "observed quantiles and sd of the unit contrasts are typical of the Gaussian model"
            if extreme.empty
            else "extreme under the Gaussian model: "
            + ", ".join(f"{r.group} {r.statistic}" for r in extreme.itertuples())
            + " (heavy tails: the mean effect stays unbiased, but consider --likelihood student-t for a robust view)",
            {"n_extreme": len(extreme)},
            next_step="refit with --likelihood student-t and compare",
        )
    )


def _power_check(panel: Panel, groups, post: DiDPosterior, opt: DiDOptions, matters: float) -> Check:
    """Gating: the pre-period must be able to see a linear trend large enough to explain the effect away
    (or to hide one the size of the threshold of caring), and must not see one (did.pretrend)."""
    name = "linear pre-trend, and the power to see one"
    fits = [linear_pretrend(panel.outcome, c, _pre_lo(c, opt.pre_periods), seed=opt.sampler.seed) for c in groups]
    if any(f is None for f in fits):
        return Check(
            name,
            False,
            "a cohort has a single pre-period: parallel trends cannot be checked at all, so nothing supports "
            "reading the contrast as causal",
            {"testable": False},
            gating=True,
            next_step="add earlier periods (at least two pre-periods per cohort, ideally as many as the "
            "treated window) or a randomised holdout of the treated units",
        )
    weights = post.weights / post.weights.sum()
    detectable = float(sum(w * f.detectable_bias for w, f in zip(weights, fits, strict=True)))
    detected = [c.label for c, f in zip(groups, fits, strict=True) if f.detected]
    powered = detectable <= matters
    worst = max(fits, key=lambda f: abs(f.slope_mean) / f.slope_sd)
    detail = (
        f"differential slope {worst.slope_mean:+.3g} per period (sd {worst.slope_sd:.3g}, P(> 0) = "
        f"{worst.prob_positive:.3f}) over {worst.periods} pre-periods; a linear trend it would detect with 80% power "
        f"biases the ATT by {detectable:.3g}, against {matters:.3g} that matters (the |ATT|, or the threshold of "
        "caring if larger)"
    )
    if detected:
        detail += f": a pre-trend is DETECTED in cohort(s) {', '.join(detected)}"
    elif not powered:
        detail += ": the pre-period CANNOT SEE a trend that would explain the effect away (no power)"
    values = {"slope": worst.slope_mean, "slope_sd": worst.slope_sd, "detectable_bias": detectable}
    values |= {"matters": matters, "detected": bool(detected), "powered": powered}
    return Check(
        name,
        powered and not detected,
        detail,
        values,
        gating=True,
        next_step="the treated units trend apart before treatment: model the trend or choose controls that share it"
        if detected
        else "the pre-period is too noisy or too short to rule out a trend that explains the effect: add control "
        "units or earlier periods, shorten the gap with --pre-periods, or settle it with a randomised holdout",
    )


def holdout_size(sigma: float, recipients: int, target_sd: float) -> int | None:
    """Holdout units so that a randomised treated-minus-holdout contrast has posterior sd <= target_sd:
    sigma^2 (1/recipients + 1/holdout) <= target_sd^2; None when even an infinite holdout is not enough."""
    room = (target_sd / sigma) ** 2 - 1.0 / recipients
    return None if room <= 1e-9 / recipients else int(np.ceil(1.0 / room))  # (rounding at the boundary)


def _propose_holdout(cohort, threshold: float, parts: Parts) -> None:
    """What settles a design the checks reject: randomise a holdout among the next wave's recipients, sized
    from the observed spread of the unit contrasts so that the effect's sd falls under the threshold of caring."""
    sigma = float(np.concatenate([cohort.z_treated, cohort.z_control]).std(ddof=1))
    recipients = len(cohort.treated_units)
    if threshold <= 0 or sigma == 0:
        return
    holdout = holdout_size(sigma, recipients, threshold)
    if holdout is None:
        half = int(np.ceil(2 * (sigma / threshold) ** 2))
        text = (
            f"a randomised test: with {recipients:,} recipients no holdout gets the effect's sd under the "
            f"threshold of caring {threshold:.3g}; split about {2 * half:,} eligible units half and half"
        )
        fields = {"holdout": half, "recipients": half}
    else:
        text = (
            f"a randomised holdout of {holdout:,} of the next wave's recipients (of {recipients + holdout:,}), "
            f"which brings the effect's posterior sd to the threshold of caring {threshold:.3g} "
            f"(contrast sd {sigma:.3g})"
        )
        fields = {"holdout": holdout, "recipients": recipients}
    fields |= {"target_sd": threshold, "contrast_sd": sigma}
    for check in parts.checks:
        if check.gating:
            check.next_step = f"{check.next_step}; or settle it with {text}" if check.next_step else text
            check.values["next_step"] = fields


def main_cohort(groups):
    """The cohort with the most treated unit-periods (the first on ties): the event study, placebo and balance
    describe it, so a singleton early cohort does not stand for the whole design."""
    return max(groups, key=lambda c: c.treated_unit_periods)


def _pre_lo(cohort, pre_periods: int | None) -> int:
    return 0 if pre_periods is None else max(0, cohort.start - pre_periods)


def _diagnostics(post: DiDPosterior, opt: DiDOptions):
    if post.idata is None:
        return diag.exact("exact conjugate posterior, independent draws (nothing to converge)")
    return diag.diagnose(
        post.idata,
        ["effect", "control_mean", "sigma", "nu"],
        opt.thresholds,
        method=f"NUTS ({opt.sampler.sampler}), Student-t contrasts",
    )


def _posterior_tree(post: DiDPosterior, es) -> xr.DataTree:
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
    return tree


def _single_window(panel: Panel, cohort, pre_periods: int | None) -> Panel:
    """The periods one cohort's contrast uses, for the reference within estimator."""
    cols = slice(_pre_lo(cohort, pre_periods), cohort.end + 1)
    return Panel(panel.outcome[:, cols], panel.treated[:, cols], panel.units, panel.periods[cols])


def _refutations(panel: Panel, groups, opt: DiDOptions) -> list[Check]:
    """Placebo start dates in the pre-period, permuted treated sets, leave-one-period-out stability.

    The placebo checks gate: an 'effect' where there was no treatment means the design, not the campaign,
    moves the outcome. Leave-one-period-out stability only informs."""
    sampler = opt.sampler
    checks = []
    first = main_cohort(groups)
    length = first.end - first.start + 1
    if first.start >= 2 * length:  # a placebo window of the same length, ending before treatment starts
        fake = np.zeros_like(panel.treated)
        fake[first.treated_units, first.start - length : first.start] = True
        placebo = Panel(
            panel.outcome[:, : first.start], fake[:, : first.start], panel.units, panel.periods[: first.start]
        )
        checks.append(_near_zero("placebo start date (pre-period)", placebo, opt))
    rng = np.random.default_rng(sampler.seed + 7)
    shuffled = panel.treated.copy()
    shuffled[rng.permutation(len(panel.units))] = panel.treated
    checks.append(
        _near_zero("placebo: permuted treated units", Panel(panel.outcome, shuffled, panel.units, panel.periods), opt)
    )
    checks.append(_leave_one_period_out(panel, groups, opt))
    few = [c for c in groups if shares_scale(len(c.treated_units), len(c.control_units))]
    if few:
        checks.append(_permutation_check(few, opt))
    return checks


def _permutation_check(few: list, opt: DiDOptions) -> Check:
    """Gating with few treated units: their noise is borrowed from the controls, so the controls must not look
    treated when given the cohort's window (did.placebo). The cohort that fares worst is reported."""
    runs = [(permutation_placebo(c, seed=opt.sampler.seed), c) for c in few]
    result, cohort = max(runs, key=lambda r: r[0].false_alarm_rate - r[0].allowed)
    n = len(cohort.treated_units)
    return Check(
        "permutation placebo over control units (few treated units)",
        result.passed,
        f"cohort {cohort.label}, {n} treated unit(s): treating "
        f"{'each control in turn' if n == 1 else f'{n} random controls'} "
        f"({result.permutations} permutations), the model calls {result.false_alarm_rate:.1%} of them an effect "
        f"(calibrated: about 1%, allowed up to {result.allowed:.1%}); placebo effects spread "
        f"{result.spread_ratio:.2f}x the model's posterior sd"
        + ("" if result.passed else ": the intervals are too narrow for this panel"),
        {"false_alarm_rate": result.false_alarm_rate, "allowed": result.allowed, "spread_ratio": result.spread_ratio},
        gating=True,
        next_step="the control units are too unlike one another for one treated unit to be judged by their spread: "
        "choose comparable controls (same region, size, trend), model the heavy tails (--likelihood student-t), "
        "or add treated units",
    )


def _leave_one_period_out(panel: Panel, groups, opt: DiDOptions) -> Check:
    """Informative: the ATT should not hinge on one period. A period whose removal leaves some cohort without
    a pre-period or a treated period changes the design, not the estimate, and is skipped (and counted)."""
    name = "leave-one-period-out stability"
    seed = opt.sampler.seed
    base = posterior_gaussian(groups, draws=2000, seed=seed).att
    means, skipped = [], 0
    dropper = PeriodDropper(panel.outcome, groups, opt.pre_periods)
    for t in range(panel.shape[1]):
        sub_groups = dropper.without(t)
        if sub_groups is None:  # a cohort's only pre- or treated period went: a different design
            skipped += 1
            continue
        means.append(float(posterior_gaussian(sub_groups, draws=2000, seed=seed).att.mean()))
    note = (
        f"; {skipped} period(s) skipped: dropping them removes a cohort's only pre- or treated period"
        if skipped
        else ""
    )
    if len(means) < 2:
        return Check(
            name,
            True,
            "not applicable: too few periods can be dropped without changing the design" + note,
            {"applicable": False, "skipped": skipped},
        )
    spread = max(means) - min(means)
    return Check(
        name,
        spread <= 2 * base.std(),
        f"ATT posterior mean ranges over [{min(means):.4g}, {max(means):.4g}] when any single period is dropped "
        f"(posterior sd {base.std():.3g}){note}",
        {"min": min(means), "max": max(means), "sd": float(base.std()), "skipped": skipped},
    )


def _near_zero(name: str, panel: Panel, opt: DiDOptions) -> Check:
    """A placebo effect must be consistent with zero: it fails when P(effect > 0) is below 0.5% or above
    99.5% (a two-sided 1% level, so a valid design fails it about 1 time in 100)."""
    att = posterior_gaussian(cohorts(panel, pre_periods=opt.pre_periods), draws=4000, seed=opt.sampler.seed).att
    est = from_draws(att, method="monte-carlo", hdi_prob=opt.hdi_prob)
    p = float(np.mean(att > 0))
    ok = PLACEBO_TAIL <= p <= 1 - PLACEBO_TAIL
    return Check(
        name,
        ok,
        f"effect {est.mean:.4g}, {opt.hdi_prob:.0%} HDI [{est.hdi_low:.4g}, {est.hdi_high:.4g}], P(> 0) = {p:.3f}"
        + (": consistent with no effect" if ok else ": an effect where there was no treatment"),
        {"mean": est.mean, "hdi_low": est.hdi_low, "hdi_high": est.hdi_high, "prob_positive": p},
        gating=True,
        next_step="an effect appears where there was no treatment: the treated units differ from the controls "
        "in ways the design does not remove (targeting on past spend, mean reversion); compare with controls "
        "matched on pre-period spend or a design that models the selection",
    )


def analyze_campaigns(tables: dict, options: DiDOptions | None = None, *, progress=quiet) -> Result:
    """All Complete Journey campaigns, partially pooled within and across types (see did.campaigns).

    With `mailer_cost_per_household`, the cost is mailers plus coupon discounts used, summed over the
    campaigns analysed (the same campaigns the incremental revenue covers)."""
    from bayescausal.did.campaigns import campaign_analyses, fit_pooled

    opt = options or DiDOptions()
    parts = Parts()
    contrasts = campaign_analyses(tables, opt, analyze, progress=progress)
    used = contrasts[contrasts["skipped"] == ""].reset_index(drop=True)
    parts.checks.append(_campaign_checks(contrasts, used))
    progress(f"pooling the {len(used)} campaigns whose own checks pass (NUTS)")
    idata = fit_pooled(contrasts, opt.sampler)
    weights = used["treated_unit_periods"].to_numpy(float)
    att = _campaign_estimates(idata, used, contrasts, weights, opt, parts)
    diagnostics = diag.diagnose(
        idata,
        ["overall", "sigma_type", "sigma_campaign", "type_effect", "campaign_effect"],
        opt.thresholds,
        method=f"NUTS ({opt.sampler.sampler}), campaign hierarchy",
    )
    cost = opt.cost if opt.cost is not None else _campaigns_cost(tables, used, opt, parts)
    pre_mean = float(np.average(used["treated_pre_mean"], weights=weights))
    roi, decision = money_and_decision(
        att,
        weights.sum(),
        pre_mean=pre_mean,
        cost=cost,
        opt=opt,
        method="mcmc",
        ship_label="campaigns pay: keep running them",
        reject_label="campaigns do not pay: cut or redesign",
    )
    window = "all weeks before it" if opt.pre_periods is None else f"{opt.pre_periods} weeks before it"
    parts.notes[:0] = [
        f"each campaign: the design and checks of `did fit --campaign` (pre-period: {window}; recipients vs "
        "households never or not yet treated by any campaign); its exact posterior's centre and spread enter "
        "the hierarchy as a normal likelihood. The effects depend on the pre-period window: --pre-periods "
        "changes it for every campaign, and each campaign's own report shows its leave-one-period-out range",
        "pooling: campaign effect ~ N(type mean, sigma_campaign), type mean ~ N(overall, sigma_type), non-centred",
        "overall ATT = campaign effects weighted by treated household-weeks, draw by draw",
    ]
    skipped = contrasts[contrasts["skipped"] != ""]
    if len(skipped):
        parts.notes.append(
            "skipped: " + "; ".join(f"campaign {r.campaign} ({r.skipped})" for r in skipped.itertuples())
        )
    incremental = roi.draws["incremental_revenue"]
    overall = parts.estimates["att"]
    lift = LiftTest(
        overall.mean,
        overall.sd,
        float(weights.sum()),
        "treated unit-period",
        float(incremental.mean()),
        float(incremental.std()),
        label=f"{len(used)} campaigns",
    )
    title = "All campaigns, partially pooled by type"
    return parts.result("did", title, decision, diagnostics, roi=roi, posterior=idata, sampled=idata, lift_test=lift)


def _campaign_estimates(idata, used, contrasts, weights, opt: DiDOptions, parts: Parts) -> np.ndarray:
    """Overall, per-campaign and per-type effects; the campaigns table with raw and pooled effects."""
    post = idata["posterior"]
    by_chain = post["campaign_effect"].transpose("chain", "draw", "campaign").values
    att_by_chain = by_chain @ (weights / weights.sum())  # (chain, draw): keeps the ESS-based MCSE honest
    parts.estimates["att"] = from_draws(att_by_chain, hdi_prob=opt.hdi_prob)
    for k, campaign in enumerate(used["campaign"]):
        parts.estimates[f"att_campaign_{campaign}"] = from_draws(by_chain[..., k], hdi_prob=opt.hdi_prob)
    for t in post["type"].values:
        parts.estimates[f"att_type_{t}"] = from_draws(post["type_effect"].sel(type=t).values, hdi_prob=opt.hdi_prob)
    effect = by_chain.reshape(-1, by_chain.shape[-1])
    table = contrasts.copy()
    pooled = {
        str(c): (effect[:, k].mean(), *hdi_from_draws(effect[:, k], opt.hdi_prob))
        for k, c in enumerate(used["campaign"])
    }
    for i, col in enumerate(("pooled_mean", "pooled_hdi_low", "pooled_hdi_high")):
        table[col] = table["campaign"].astype(str).map(lambda c, i=i: pooled.get(c, (np.nan,) * 3)[i])
    parts.tables["campaigns"] = table
    parts.extra["campaigns"] = table.to_dict("records")
    parts.figure("Campaign effects: raw vs pooled", partial(plots.campaign_forest, table))
    return att_by_chain.ravel()


def _campaign_checks(contrasts: pd.DataFrame, used: pd.DataFrame) -> Check:
    """Gating when too few campaigns pass their own checks to pool: a campaign whose own checks fail is left
    out of the pooled effect (it cannot carry the pooled verdict), and the report names it."""
    failed = contrasts[contrasts["skipped"].str.startswith("its own gating")]
    named = "; ".join(f"campaign {r.campaign}: {r.skipped.split(': ', 1)[1]}" for r in failed.itertuples())
    if used.empty:
        raise DataError(
            "no campaign can be pooled: "
            + "; ".join(f"campaign {r.campaign}: {r.skipped}" for r in contrasts.itertuples())
        )
    weight = contrasts.set_index("campaign")["treated_unit_periods"]
    share = float(weight[used["campaign"]].sum() / weight.sum())  # of the analysable campaigns' exposure
    gating = len(used) < MIN_POOLED or share < MIN_POOLED_SHARE
    return Check(
        "each campaign's own gating checks",
        failed.empty,
        f"{len(used)} of {len(contrasts)} campaigns pass their own checks and are pooled ({share:.0%} of the "
        "treated household-weeks)"
        + (f"; left out of the pooled effect: {named}" if named else "")
        + (": too little of the programme passes its checks for a verdict on it" if gating else ""),
        {"pooled": used["campaign"].tolist(), "failed": failed["campaign"].tolist(), "pooled_share": share},
        gating=gating,
        next_step="read each left-out campaign's own report (did fit --campaign N): its failed check says what "
        "would settle it",
    )


MIN_POOLED = 2  # fewer, and the pooled effect is one campaign's with a prior-made spread: inconclusive
MIN_POOLED_SHARE = 0.5  # a verdict on the programme needs most of its treated household-weeks to be checked


def _campaigns_cost(tables, used, opt: DiDOptions, parts: Parts) -> float | None:
    if opt.mailer_cost_per_household is None:
        return None
    from bayescausal.data.complete_journey import campaign_cost

    costs = [campaign_cost(tables, int(c), per_household=opt.mailer_cost_per_household) for c in used["campaign"]]
    total = sum(p["total"] for p in costs)
    parts.notes.append(
        f"cost of the {len(costs)} campaigns analysed = mailers {sum(p['mailers'] for p in costs):,.2f} + coupon "
        f"discounts used {sum(p['coupon_discounts'] for p in costs):,.2f} = {total:,.2f}"
    )
    return total
