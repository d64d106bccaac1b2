"""What both DiD models do once they have a posterior: the ROI and decision, the pre-trend checks and the
sensitivity read from an event study, the balance table, and the Result (bayescausal.did.analysis for the
exact model, bayescausal.did.hierarchical_analysis for the hierarchical one)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd

from bayescausal.data.panel import Panel
from bayescausal.did.options import DiDOptions
from bayescausal.did.sensitivity import GRID, relative_magnitudes
from bayescausal.did.sensitivity import plot as sensitivity_plot
from bayescausal.result import Check, LiftTest, Parts
from bayescausal.roi import decide_from_draws, summarise_roi

PRETREND_TAIL = 0.01  # "no pre-trend" outside the leads' 99% joint posterior region fails the check
LABELS = {"ship_label": "effective: repeat the campaign", "reject_label": "not effective: do not repeat"}


def finish(parts: Parts, panel: Panel, decision, diagnostics, roi, unit_periods: float, label: str, tree, sampled):
    """The Result of either model: its ATT as the lift test other families can take as a prior."""
    att, incremental = parts.estimates["att"], roi.incremental_revenue
    lift = LiftTest(
        att.centre,
        att.spread,
        float(unit_periods),
        "treated unit-period",
        incremental.centre,
        incremental.spread,
        label=label,
    )
    title = f"Difference-in-differences: {panel.outcome_name}"
    return parts.result("did", title, decision, diagnostics, roi=roi, posterior=tree, sampled=sampled, lift_test=lift)


def sensitivity_check(att: np.ndarray, es, acts, opt: DiDOptions, parts: Parts) -> None:
    """Informative: the breakdown value of M (did.sensitivity), published in summary.json and plotted."""
    sens = relative_magnitudes(att, es.lead_draws, acts)
    if sens is None:
        return
    parts.extra["sensitivity"] = sens.to_dict()
    parts.figure("Sensitivity to violations of parallel trends", partial(sensitivity_plot, sens), "evidence")
    tested = "acting" if sens.positive else "not acting"
    held = f"holds up to M = {GRID[-1]:g}" if sens.breakdown is None else f"breaks down at M = {sens.breakdown:g}"
    parts.checks.append(
        Check(
            "sensitivity to parallel-trends violations (relative magnitudes)",
            sens.breakdown is None or sens.breakdown >= 1.0,
            f"the conclusion of {tested} {held}: post-treatment violations up to M times the largest "
            "pre-treatment deviation (Rambachan & Roth 2023); below 1 it rests on trends more parallel after "
            "treatment than before",
            {"breakdown_m": sens.breakdown},
        )
    )


def pretrend_check(es) -> Check:
    """Gating: DiD identifies the effect only under parallel trends; leads far from zero say the treated
    units were already moving apart before treatment, so the ATT mixes that drift with the effect."""
    n_leads = int(es.is_lead.sum())
    ok = es.zero_tail_prob >= PRETREND_TAIL
    return Check(
        "parallel pre-trends (event-study leads)",
        ok,
        f"'no pre-trend' {'lies inside' if ok else 'lies OUTSIDE'} the joint posterior region of the {n_leads} leads "
        f"(posterior tail probability {es.zero_tail_prob:.3f}; fails below {PRETREND_TAIL}); "
        f"P(all leads within +-{es.tolerance:.3g}) = {es.prob_leads_within_tolerance:.3f}",
        {"zero_tail_prob": es.zero_tail_prob, "prob": es.prob_leads_within_tolerance, "tolerance": es.tolerance},
        gating=True,
        next_step="the treated and control units trend apart before treatment: choose controls that match the "
        "treated units' pre-period trend (matching, synthetic control), model the trend explicitly, or "
        "shorten the pre-period to the weeks where the leads are flat; do not read the ATT as causal",
    )


def money_and_decision(
    att,
    unit_periods: float,
    *,
    pre_mean: float,
    cost: float | None,
    opt: DiDOptions,
    method: str,
    ship_label: str,
    reject_label: str,
    finite_moments: int = 2,
):
    """Incremental outcome = ATT x treated unit-periods, draw by draw; ROI; the decision on the ATT, with the
    threshold of caring relative to the treated units' pre-period mean outcome."""
    rule = replace(opt.rule, threshold_of_caring=opt.threshold * abs(pre_mean))
    business = replace(opt.business, cost=cost)
    roi = summarise_roi(att * unit_periods, business, rule, method=method, finite_moments=finite_moments)
    decision = decide_from_draws(
        att,
        rule,
        prob_roi=roi.prob_roi_above_hurdle,
        roi_draws=roi.draws.get("roi"),
        ship_label=ship_label,
        reject_label=reject_label,
        units=" per unit-period",
    )
    return roi, decision


def balance(panel: Panel, cohort) -> pd.DataFrame:
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
