"""`analyze` with the hierarchical model (did.hierarchical): a panel's cells, gaps and all, to the shared Result.

The effect fit and the pre-trend fit are the same model: the second uses the untreated cells only, with the
treated units' last pre-period cells as 'effects' that should be zero (did.cells.lead_design)."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.data.panel import Panel
from bayescausal.did import hierarchical, plots
from bayescausal.did.cells import CellDesign, cell_design, lead_design, treatment_windows
from bayescausal.did.decide import LABELS, balance, finish, money_and_decision, pretrend_check, sensitivity_check
from bayescausal.did.event_study import EventStudy, summarise
from bayescausal.did.imputation import imputation_att
from bayescausal.did.model import SHARED_SCALE_BELOW
from bayescausal.did.options import DiDOptions
from bayescausal.did.pretrend import POWER_Z, SLOPE_TAIL
from bayescausal.estimates import from_draws, hdi_from_draws
from bayescausal.result import Check, Parts, Result

PARAMETERS = ["effect", "period_effect", "rho", "sigma", "unit_effect_sd"]
POOLING = ["effect_level", "effect_step", "cohort_spread", "effect_by_event_time"]


def choose_model(panel: Panel, opt: DiDOptions) -> tuple[str, str]:
    """Which model runs and why, in words the report and summary.json repeat."""
    if opt.model != "auto":
        return opt.model, f"requested (--model {opt.model})"
    if not panel.balanced:
        return "hierarchical", (
            f"auto: the panel is unbalanced ({panel.missing_cells:,} of {panel.outcome.size:,} unit-period cells "
            "missing), so the model uses the cells each unit has"
        )
    first, _ = treatment_windows(panel)
    if (first == 0).any():
        return "hierarchical", (
            f"auto: {int((first == 0).sum())} treated unit(s) have no pre-period, which the exact model cannot "
            "leave out"
        )
    return "exact", "auto: a balanced panel where every treated unit has a pre-period, so the exact posterior holds"


def analyze_hierarchical(panel: Panel, opt: DiDOptions, *, cost: float | None, why: str) -> Result:
    """ATT, cohort effects, event study and pre-trend checks from the hierarchical model, with the family's ROI
    and decision rule (did.analysis)."""
    parts = Parts()
    design = cell_design(panel)
    pre_mean = _pre_mean(panel, design)
    money = partial(money_and_decision, pre_mean=pre_mean, cost=cost, opt=opt, **LABELS)
    parts.notes.append(f"model: hierarchical two-way model, {why}")
    if hierarchical.shares_one_effect(design):
        parts.notes.append(
            f"fewer than {SHARED_SCALE_BELOW} treated units cannot show how their effects differ: the model takes "
            "them to share one effect (each unit's own deviation fixed at 0), as the exact model does"
        )
    parts.notes.extend(f"design: {note}" for note in design.notes)
    parts.extra["model"] = {"name": "hierarchical", "why": why}
    fit = hierarchical.fit(design, opt.sampler)
    leads = lead_design(design, panel, opt.leads) if opt.leads else None
    lead_fit = hierarchical.fit(leads, opt.sampler, pooled=False) if leads is not None else None
    _estimates(panel, fit, opt, parts)
    es = _event_study(fit, lead_fit, opt)
    parts.tables["event study"] = es.table
    parts.figure("Event study (leads = parallel-trends check)", partial(plots.event_study, es))
    if np.isfinite(es.zero_tail_prob):
        parts.checks.append(pretrend_check(es))
    matters = max(abs(parts.estimates["att"].centre), opt.threshold * abs(pre_mean))
    parts.checks.insert(0, _power_check(fit, es, matters))
    parts.tables["pre-period balance"] = _balance(panel, design)
    parts.notes.append(
        "refutations by refitting (placebo start date, permuted treated units, leave-one-period-out) are not run "
        "with the hierarchical model: each would refit it; the leads fit (untreated cells only) is its pre-trend test"
    )
    att = fit.att
    roi, decision = money(att, fit.weights.sum(), method="mcmc")
    sensitivity_check(
        att.ravel(), es, lambda d: money(d, fit.weights.sum(), method="mcmc")[1].verdict == "act", opt, parts
    )
    diagnostics = _diagnostics(fit, lead_fit, opt)
    labels = ", ".join(design.cohorts["label"])
    return finish(
        parts, panel, decision, diagnostics, roi, fit.weights.sum(), labels, _posterior_tree(fit, es), fit.idata
    )


def _estimates(panel: Panel, fit: hierarchical.HierarchicalFit, opt: DiDOptions, parts: Parts) -> None:
    design = fit.design
    parts.estimates["att"] = from_draws(fit.att, hdi_prob=opt.hdi_prob)
    rows = []
    for k, c in enumerate(design.cohorts.to_dict("records")):
        draws = fit.cohort_effects[..., k]
        if len(design.cohorts) > 1:
            parts.estimates[f"att_cohort_{c['label']}"] = from_draws(draws, hdi_prob=opt.hdi_prob)
        low, high = hdi_from_draws(draws.ravel(), opt.hdi_prob)
        rows.append(
            {
                "cohort (periods)": c["label"],
                "treated units": c["treated units"],
                "treated cells": c["treated cells"],
                "effect_mean": draws.mean(),
                "effect_sd": draws.std(),
                "hdi_low": low,
                "hdi_high": high,
                "P(effect > 0)": float((draws > 0).mean()),
            }
        )
    parts.tables["cohorts"] = pd.DataFrame(rows)
    parts.extra["cohorts"] = parts.tables["cohorts"].to_dict("records")
    reference = imputation_att(design)
    att = parts.estimates["att"]
    parts.tables["reference"] = pd.DataFrame(
        {"estimate": [att.centre, reference]},
        index=["posterior mean (this model)", "imputation estimator (Borusyak, Jaravel & Spiess), OLS weights"],
    ).rename_axis("method")
    rho = float(fit.idata["posterior"]["rho"].mean())
    parts.notes.append(
        f"reference: the imputation estimator gives {reference:.4g}, the posterior mean {att.centre:.4g} "
        f"({(att.centre - reference) / att.spread:+.2f} posterior sd); they differ by the model's AR(1) weighting "
        f"(rho = {rho:.2f}) and its pooling of cohorts and event times, not by the cells used"
    )


def _event_study(fit, lead_fit, opt: DiDOptions) -> EventStudy:
    """Leads from the pre-trend fit, lags from the effect fit, each pooled over cohorts by cells."""
    lags = fit.path.reshape(-1, fit.path.shape[-1])
    if lead_fit is None:
        e, draws, is_lead = fit.event_times, lags, np.zeros(len(fit.event_times), bool)
    else:
        leads = lead_fit.path.reshape(-1, lead_fit.path.shape[-1])
        e = np.r_[lead_fit.event_times, fit.event_times]
        draws = np.column_stack([leads, lags])
        is_lead = np.r_[np.ones(leads.shape[1], bool), np.zeros(lags.shape[1], bool)]
    labels = np.array([f"start {t:+d}" for t in e])
    return summarise(
        e,
        draws,
        is_lead,
        labels,
        tolerance=opt.lead_tolerance,
        hdi_prob=opt.hdi_prob,
        reference="the pre-period before the leads",
    )


def _power_check(fit, es: EventStudy, matters: float) -> Check:
    """Gating, as the exact model's: the leads' linear trend must not be detected, and the pre-period must be
    able to see one large enough to explain the effect away."""
    name = "linear pre-trend, and the power to see one"
    if es.is_lead.sum() < 2:
        return Check(
            name,
            False,
            "fewer than two leads could be estimated: parallel trends cannot be checked, so nothing supports "
            "reading the contrast as causal",
            {"testable": False},
            gating=True,
            next_step="add earlier periods (at least three pre-periods per cohort) or a randomised holdout",
        )
    e = es.event_times[es.is_lead]
    x = e - e.mean()  # the leads are measured against earlier periods, not pinned at -1: fit an intercept too
    slopes = es.lead_draws @ x / (x @ x)
    sd, p = float(slopes.std()), float((slopes > 0).mean())
    lags = fit.event_times
    gap = float(lags.mean() - e.mean())
    detectable = POWER_Z * sd * gap
    detected, powered = not SLOPE_TAIL <= p <= 1 - SLOPE_TAIL, detectable <= matters
    detail = (
        f"lead slope {slopes.mean():+.3g} per period (sd {sd:.3g}, P(> 0) = {p:.3f}); a linear trend it would "
        f"detect with 80% power biases the ATT by {detectable:.3g}, against {matters:.3g} that matters"
    )
    if detected:
        detail += ": a pre-trend is DETECTED"
    elif not powered:
        detail += ": the pre-period CANNOT SEE a trend that would explain the effect away (no power)"
    values = {"slope": float(slopes.mean()), "slope_sd": sd, "detectable_bias": detectable, "matters": matters}
    return Check(
        name,
        powered and not detected,
        detail,
        values | {"detected": detected, "powered": powered},
        gating=True,
        next_step="the treated units trend apart before treatment: choose controls that share their trend"
        if detected
        else "add control units or earlier periods, or settle it with a randomised holdout",
    )


def _pre_mean(panel: Panel, design: CellDesign) -> float:
    treated = design.unit[design.effect >= 0]
    first = design.first_treated
    units = np.unique(treated)
    before = np.arange(panel.shape[1])[None, :] < first[units, None]
    return float(np.nanmean(np.where(before, panel.outcome[units], np.nan)))


def _balance(panel: Panel, design: CellDesign) -> pd.DataFrame:
    """The exact model's balance table (did.decide.balance) for the largest cohort."""
    first = design.first_treated
    main = design.cohorts.loc[design.cohorts["treated cells"].idxmax()]
    used = np.unique(design.unit)
    cohort = SimpleNamespace(
        start=int(main["start"]),
        treated_units=np.intersect1d(np.flatnonzero(first == main["start"]), used),
        control_units=np.intersect1d(np.flatnonzero((first < 0) | (first > main["end"])), used),
    )
    return balance(panel, cohort)


def _diagnostics(fit, lead_fit, opt: DiDOptions):
    method = f"NUTS ({opt.sampler.sampler}), hierarchical two-way model"
    main = diag.diagnose(fit.idata, _sampled(fit), opt.thresholds, method=method)
    if lead_fit is None:
        return main
    leads = diag.diagnose(lead_fit.idata, _sampled(lead_fit), opt.thresholds, method=method)
    return diag.combine(main, leads, "leads fit")


def _sampled(fit) -> list[str]:
    """The parameters the gate checks, among those this fit has (a design may fix or drop some)."""
    return [v for v in PARAMETERS + POOLING if v in fit.idata["posterior"]]


def _posterior_tree(fit, es: EventStudy) -> xr.DataTree:
    tree = fit.idata.copy()
    tree["effects"] = xr.Dataset(
        {
            "att": (("chain", "draw"), fit.att),
            "cohort_effect": (("chain", "draw", "cohort"), fit.cohort_effects),
        },
        coords={"cohort": list(fit.design.cohorts["label"])},
    )
    tree["event_study"] = xr.Dataset(
        {"effect": (("chain", "draw", "event_time"), es.draws[None])}, coords={"event_time": es.event_times}
    )
    return tree
