"""`analyze`: a weekly spend/GMV panel to a budget decision, as the shared Result.

Flow: fit (pymc-marketing, nutpie) -> ArviZ diagnostics -> prior and posterior predictive checks, LOO,
out-of-sample check on the final weeks -> per-channel ROAS and marginal ROAS, contribution shares over
time, response curves -> the optimizer's reallocation, scored as the posterior of its incremental
revenue against the current plan -> lift-test calibration and spreading-rule sensitivity (refits).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.data.weekly import SPREADS, MMMData
from bayescausal.estimates import from_draws
from bayescausal.family import quiet
from bayescausal.mmm import model as mm
from bayescausal.mmm import plots
from bayescausal.mmm.options import MMMOptions
from bayescausal.result import Check, LiftTest, Parts, Result
from bayescausal.roi import Business, decide_from_draws, summarise_roi


def _draws(da: xr.DataArray) -> xr.DataArray:
    """Sum any group dimension away and keep (chain, draw, channel): for contributions, which add up."""
    extra = [d for d in da.dims if d not in ("chain", "draw", "channel")]
    return da.sum(extra) if extra else da


def pooled_ratio(by_group: xr.DataArray, spend: pd.DataFrame, regional: bool) -> xr.DataArray:
    """One ROAS per channel from per-group ROAS: total contribution over total spend.

    pymc-marketing divides each group's contribution by that group's spend, so contribution_g = roas_g * S_g.
    With regional spend the channel's total spend is sum_g S_g; with national spend that every group sees,
    it is S once, and the pooled ROAS is sum_g roas_g. The same weights pool marginal ROAS, since raising every
    group's spend by the same share raises the total by that share."""
    weights = xr.DataArray(spend.to_numpy(float), dims=("group", "channel"), coords={"group": spend.index})
    weights = weights.assign_coords(channel=list(spend.columns)).sel(group=by_group["group"])
    total = weights.sum("group") if regional else weights.isel(group=0, drop=True)
    return (by_group * weights).sum("group") / total


def group_roas(mmm) -> tuple[xr.DataArray, xr.DataArray]:
    """Posterior ROAS and marginal ROAS per channel (and per group, when there are groups) over the whole
    period: each group's contribution over that group's spend (pymc-marketing's counterfactuals)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        roas = mmm.incrementality.contribution_over_spend("all_time").squeeze(drop=True)
        mroas = mmm.incrementality.marginal_contribution_over_spend("all_time").squeeze(drop=True)
    return roas, mroas


def channel_roas(mmm, data: MMMData | None = None, by_group=None) -> tuple[xr.DataArray, xr.DataArray]:
    """Posterior ROAS and marginal ROAS per channel, pooled over any groups as total contribution over total
    spend (`data` gives the spend; it is needed only when the model has groups). `by_group`: `group_roas`
    already computed (pymc-marketing's counterfactuals are the costly part)."""
    roas, mroas = by_group or group_roas(mmm)
    if "group" not in roas.dims:
        return roas, mroas
    if data is None:
        raise ValueError("pooling ROAS over groups needs the panel's spend: pass data=")
    spend, regional = data.spend_by_group(), data.regional_spend
    return pooled_ratio(roas, spend, regional), pooled_ratio(mroas, spend, regional)


def response_curves(mmm, multipliers, num_samples: int = 400, seed: int = 0) -> xr.DataArray:
    """Total contribution of each channel if its whole-period spend were scaled by m: (sample, channel, m).

    pymc-marketing reports Y(actual) - Y(m x spend) for m < 1 and Y(m x spend) - Y(actual) for m > 1, so
    C(m) = C(1) - increment for m <= 1 and C(1) + increment above, with C(1) the m = 0 increment."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def increment(m: float) -> xr.DataArray:
            delta = mmm.incrementality.compute_incremental_contribution(
                "all_time", counterfactual_spend_factor=float(m), num_samples=num_samples, random_state=seed
            )
            return _draws(delta.squeeze(drop=True))

        full = increment(0.0)
        curves = [full - increment(m) if m <= 1 else full + increment(m) for m in multipliers]
    return xr.concat(curves, dim=pd.Index(list(multipliers), name="multiplier"))


def contributions(mmm) -> xr.DataArray:
    """Posterior of weekly contribution per channel, original scale: (chain, draw, date, channel)."""
    da = mmm.idata["posterior"]["channel_contribution_original_scale"]
    return da.sum("group") if "group" in da.dims else da


def _samples(da: xr.DataArray, n: int) -> np.ndarray:
    """(samples, n) from a DataArray with (chain, draw) or an already stacked `sample` dimension."""
    if "sample" not in da.dims:
        da = da.stack(sample=("chain", "draw"))
    return da.transpose("sample", ...).values.reshape(-1, n)


def _plan(mmm, data: MMMData, opt: MMMOptions, movable: list[str]) -> dict:
    """Optimise next `plan_weeks` of spend under a total-budget constraint and score both plans. With product
    groups the optimizer may split a channel differently by group; with national media that every product
    group sees, the table shows each channel's average over groups (it cannot be bought per group); with
    regional spend, each region's cell starts at its own spend and the table shows the channel's total."""
    weekly = data.spend_by_week()
    current = weekly.mean()
    total = opt.total_budget if opt.total_budget is not None else float(current.sum())
    scale = total / current.sum()
    current = current * scale
    start = weekly.index.max() + pd.Timedelta(days=7)
    end = start + pd.Timedelta(days=7 * (opt.plan_weeks - 1))
    low, high = opt.budget_bounds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = mmm.budget_optimizer(start, end)
        cells = optimizer.budgets_to_optimize
        cur = _current_cells(data, current, scale, cells)
        # only identified channels move: the others' bounds pin them at their current spend
        moves = xr.DataArray(
            [c in movable for c in cells["channel"].values], dims="channel", coords={"channel": cells["channel"]}
        )
        lower, upper = xr.where(moves, cur * low, cur), xr.where(moves, cur * high, cur)
        bounds = xr.concat([lower, upper], dim=pd.Index(["lower", "upper"], name="bound"))
        bounds = bounds.transpose(*cells.dims, "bound")
        if len(movable) >= 2:
            result = optimizer.allocate_budget(total_budget=float(cur.sum()), budget_bounds=bounds, x0=cur)
            new, converged = result.budgets, bool(result.scipy_result.success)
        else:  # nothing (or one channel alone) can move under a fixed total: the plan is the current one
            new, converged = cur, True
        resp_new = optimizer.evaluate_response_distribution(new)
        resp_cur = optimizer.evaluate_response_distribution(cur)
    gain = np.asarray(resp_new - resp_cur, dtype=float).ravel()
    current_response = float(np.asarray(resp_cur, dtype=float).mean())
    across = [d for d in new.dims if d != "channel"]
    new_by_channel = (new.sum(across) if data.regional_spend else new.mean(across)) if across else new
    table = pd.DataFrame(
        {
            "current per week": current,
            "optimised per week": new_by_channel.to_series().reindex(current.index),
        }
    )
    table["change"] = table["optimised per week"] / table["current per week"] - 1
    table["moves"] = [c in movable for c in table.index]
    return {
        "gain": gain,
        "current_response": current_response,
        "table": table.rename_axis("channel").reset_index(),
        "weeks": opt.plan_weeks,
        "total": total,
        "converged": converged,
        "held": [c for c in data.channels if c not in movable],
        "window": (start.date(), end.date()),
    }


def _current_cells(data: MMMData, current: pd.Series, scale: float, cells: xr.DataArray) -> xr.DataArray:
    """The optimizer's starting spend per (group, channel) cell, per week: each region's own mean spend with
    regional spend; the channel's national spend in every cell when every product group sees it."""
    if data.regional_spend:
        by_group = data.frame.groupby("group")[data.channels].mean() * scale
        cur = xr.DataArray(by_group.to_numpy(float), dims=("group", "channel"))
        cur = cur.assign_coords(group=by_group.index, channel=list(by_group.columns))
        return cur.sel(group=cells["group"], channel=cells["channel"]).transpose(*cells.dims)
    cur = xr.DataArray(current.to_numpy(float), dims=["channel"], coords={"channel": list(current.index)})
    return cur.broadcast_like(cells).transpose(*cells.dims)


def _holdout(data: MMMData, opt: MMMOptions) -> dict | None:
    """Refit without the final weeks and score the predictions of those weeks."""
    dates = np.sort(data.frame["date"].unique())
    h = opt.holdout_weeks
    if h <= 0 or len(dates) < 40 + h:
        return None
    train = data.frame[data.frame["date"] < dates[-h]]
    test = data.frame[data.frame["date"] >= dates[-h]]
    mmm, _, _ = mm.fit(data, opt, train, opt.lift_tests)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = mmm.sample_posterior_predictive(
            test.drop(columns=[data.target]),
            include_last_observations=True,
            extend_idata=False,
            progressbar=False,
            random_seed=opt.sampler.seed,
            var_names=["y_original_scale"],
        )
    ys = _samples(pred["y_original_scale"] if isinstance(pred, xr.Dataset) else pred, len(test))
    y = test[data.target].to_numpy(float)
    lo, hi = np.quantile(ys, [0.03, 0.97], axis=0)
    med = np.median(ys, axis=0)
    # sample CRPS: E|Y - y| - 0.5 E|Y - Y'|
    crps = np.mean(np.abs(ys - y).mean(0) - 0.5 * np.abs(ys[::2] - ys[1::2][: len(ys[::2])]).mean(0))
    return {
        "weeks": h,
        "coverage": float(np.mean((y >= lo) & (y <= hi))),
        "mape": float(np.mean(np.abs(med - y) / np.maximum(np.abs(y), 1e-12))),
        "crps": float(crps),
        "dates": test["date"].to_numpy(),
        "y": y,
        "band": (lo, med, hi),
    }


def _predictive_checks(mmm, X, y, data: MMMData, seed: int) -> tuple[list[Check], dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = mmm.sample_prior_predictive(X, y, samples=300, random_seed=seed)
        post = mmm.sample_posterior_predictive(X, extend_idata=False, progressbar=False, random_seed=seed)
    y_obs = y.to_numpy(float)

    target_scale = mmm.get_scales_as_xarray()["target_scale"]

    def original(ds) -> np.ndarray:
        da = ds["y_original_scale"] if "y_original_scale" in ds else ds["y"] * target_scale
        return _samples(da, len(y_obs))

    prior_y = original(prior.get("prior_predictive", prior))
    post_y = original(post)
    inside_prior = float(np.mean((y_obs >= np.quantile(prior_y, 0.03, 0)) & (y_obs <= np.quantile(prior_y, 0.97, 0))))
    lo, hi = np.quantile(post_y, [0.03, 0.97], axis=0)
    coverage = float(np.mean((y_obs >= lo) & (y_obs <= hi)))
    pvals = diag.ppc_pvalues(
        {"mean": y_obs.mean(), "sd": y_obs.std(), "max": y_obs.max()},
        {"mean": post_y.mean(1), "sd": post_y.std(1), "max": post_y.max(1)},
    )
    flagged = diag.ppc_flagged(pvals)
    checks = [
        Check(
            "prior predictive covers the data",
            inside_prior >= 0.8,
            f"{inside_prior:.0%} of observed weeks inside the prior predictive 94% band",
            {"share": inside_prior},
        ),
        Check(
            "posterior predictive check",
            coverage >= 0.8 and not flagged,
            f"94% posterior predictive band covers {coverage:.0%} of weeks; p-values "
            + ", ".join(f"{k} {v:.2f}" for k, v in pvals.items()),
            {"coverage": coverage, "p_values": pvals},
        ),
    ]
    return checks, {"y": y_obs, "band": np.quantile(post_y, [0.03, 0.5, 0.97], axis=0), "dates": X["date"].to_numpy()}


def _loo(mmm) -> Check | None:
    try:
        import arviz_stats as azs
        import pymc as pm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loglik = pm.compute_log_likelihood(
                mmm.idata, model=mmm.model, var_names=["y"], extend_inferencedata=False, progressbar=False
            )
            tree = mmm.idata.copy()
            tree["log_likelihood"] = loglik if isinstance(loglik, xr.Dataset) else loglik["log_likelihood"]
            loo = azs.loo(tree, var_name="y")
    except Exception as exc:  # LOO is informative only; never fail an analysis over it
        return Check("LOO (PSIS)", True, f"not computed: {exc}", {})
    k_max = float(np.nanmax(loo.pareto_k.values))
    return Check(
        "LOO (PSIS)",
        k_max < 0.7,
        f"elpd_loo {float(loo.elpd):.1f} (se {float(loo.se):.1f}), p_loo {float(loo.p):.1f}, max Pareto k {k_max:.2f}"
        + ("" if k_max < 0.7 else ": some weeks are influential, LOO is unreliable for them"),
        {"elpd_loo": float(loo.elpd), "p_loo": float(loo.p), "max_pareto_k": k_max},
    )


def _roas_table(estimates: dict, channels: list[str]) -> pd.DataFrame:
    """The per-channel ROAS and marginal ROAS estimates, side by side (no recomputation)."""
    rows = []
    for c in channels:
        r, m = estimates[f"roas_{c}"], estimates[f"mroas_{c}"]
        rows.append(
            {
                "channel": c,
                "ROAS mean": r.mean,
                "ROAS hdi_low": r.hdi_low,
                "ROAS hdi_high": r.hdi_high,
                "marginal ROAS mean": m.mean,
                "marginal hdi_low": m.hdi_low,
                "marginal hdi_high": m.hdi_high,
            }
        )
    return pd.DataFrame(rows)


def analyze(data: MMMData, options: MMMOptions | None = None, *, progress=quiet) -> Result:
    """Fit, diagnose, check, value every channel and score the optimizer's plan (see the module docstring)."""
    opt = options or MMMOptions()
    parts = Parts()
    progress(f"fitting the MMM ({len(data.channels)} channels, {data.frame['date'].nunique()} weeks) with NUTS")
    t0 = time.perf_counter()
    mmm, X, y = mm.fit(data, opt, lift_tests=opt.lift_tests)
    parts.timings["fit_s"] = time.perf_counter() - t0
    free = [v.name for v in mmm.model.free_RVs]
    diagnostics = diag.diagnose(
        mmm.idata, free, opt.thresholds, method=f"NUTS ({opt.sampler.sampler}) via pymc-marketing"
    )
    designs = _identification(mmm, data, opt, parts)
    progress("ROAS, contributions and response curves")
    roas, mroas = _channel_estimates(mmm, data, opt, parts, {d.channel: d.label for d in designs})
    progress("budget reallocation (pymc-marketing optimizer)")
    plan = _plan(mmm, data, opt, movable=[d.channel for d in designs if d.label == "identified"])
    roi, decision = _plan_decision(plan, data, opt, parts)
    checks, ppc = _predictive_checks(mmm, X, y, data, opt.sampler.seed)
    parts.checks.extend(checks)
    if (loo := _loo(mmm)) is not None:
        parts.checks.append(loo)
    parts.checks.append(_optimizer_check(plan))
    parts.figure("Posterior predictive check", partial(plots.fit_band, ppc))
    _model_notes(data, opt, parts)
    progress("out-of-sample check on the final weeks (refit)")
    _holdout_check(data, opt, parts)
    _refits(data, opt, roas, parts, progress)
    posterior = xr.DataTree.from_dict(
        {
            "posterior": mmm.idata["posterior"].to_dataset()[free],
            "roas": xr.Dataset({"roas": roas, "marginal_roas": mroas}),
            "plan": xr.Dataset({"incremental_revenue": (("sample",), plan["gain"])}),
        }
    )
    parts.inputs |= {"source": data.source, "weeks": int(data.frame["date"].nunique())}
    title = f"Marketing mix: {data.target} on {len(data.channels)} channels"
    return parts.result(
        "mmm", title, decision, diagnostics, roi=roi, posterior=posterior, sampled=mmm.idata, lift_test=_plan_lift(plan)
    )


def _plan_lift(plan: dict) -> LiftTest:
    """The lift the model predicts for its plan, per week: what a geo or time-split experiment of the plan
    would measure, in the same form as the lift tests the other families export."""
    gain, weeks = plan["gain"], plan["weeks"]
    return LiftTest(
        float(gain.mean() / weeks),
        float(gain.std() / weeks),
        float(weeks),
        "plan week",
        float(gain.mean()),
        float(gain.std()),
        label="optimised plan vs current plan (predicted)",
    )


def _identification(mmm, data: MMMData, opt: MMMOptions, parts: Parts) -> list:
    """Each channel's identification label (mmm.identification): its spend design, and how far the data
    narrowed its effect size (saturation beta, log scale) from the prior."""
    from dataclasses import replace as with_contraction

    from bayescausal.mmm import identification as ident

    weekly = data.spend_by_week()
    designs = ident.spend_design(weekly, pd.Series(weekly.index), modes=max(mm.seasonality(data, opt), 1))
    prior = _prior_log_beta(mmm, opt.sampler.seed)
    posterior = np.log(mmm.idata["posterior"]["saturation_beta"])
    designs = [
        with_contraction(
            d, contraction=ident.contraction(_by_channel(prior, d.channel), _by_channel(posterior, d.channel))
        )
        for d in designs
    ]
    parts.extra["identification"] = {d.channel: d.to_dict() for d in designs}
    parts.tables["identification by channel"] = ident.table(designs)
    known = [d.channel for d in designs if d.label == "identified"]
    unknown = [d.channel for d in designs if d.label != "identified"]
    parts.notes.insert(
        0,
        "what the data can decide: "
        + (f"the ROAS of {', '.join(known)}" if known else "no channel's ROAS")
        + (
            f"; not {', '.join(unknown)} (their estimates lean on the priors, and the plan keeps them at current spend)"
            if unknown
            else ""
        ),
    )
    return designs


def _prior_log_beta(mmm, seed: int) -> xr.DataArray:
    import pymc as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = pm.sample_prior_predictive(draws=2000, model=mmm.model, var_names=["saturation_beta"], random_seed=seed)
    return np.log(prior["prior"]["saturation_beta"])


def _by_channel(log_beta: xr.DataArray, channel: str) -> np.ndarray:
    """One channel's log effect size per draw, averaged over any groups."""
    da = log_beta.sel(channel=channel)
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    return (da.mean(extra) if extra else da).values.ravel()


def _channel_estimates(mmm, data: MMMData, opt: MMMOptions, parts: Parts, labels: dict):
    """ROAS, marginal ROAS and contribution shares per channel; contributions and response curves."""
    by_group = group_roas(mmm)
    roas, mroas = channel_roas(mmm, data, by_group)
    for c in data.channels:
        parts.estimates[f"roas_{c}"] = from_draws(roas.sel(channel=c).transpose("chain", "draw").values)
    for c in data.channels:
        parts.estimates[f"mroas_{c}"] = from_draws(mroas.sel(channel=c).transpose("chain", "draw").values)
    contrib = contributions(mmm)
    totals = contrib.sum("date")
    shares = totals / totals.sum("channel")
    for c in data.channels:
        share = shares.sel(channel=c).transpose("chain", "draw").values
        parts.estimates[f"share_{c}"] = from_draws(share, signed=False)
    curves = response_curves(mmm, opt.response_points, seed=opt.sampler.seed)
    weekly = data.spend_by_week()
    table = _roas_table(parts.estimates, data.channels)
    table.insert(1, "identification", table["channel"].map(labels))
    parts.tables["ROAS and marginal ROAS by channel"] = table
    if data.group:
        _group_estimates(by_group[0], data, parts)
    parts.figure("ROAS posterior by channel", partial(plots.roas_forest, roas, mroas, labels))
    parts.figure("Contributions over time (posterior mean)", partial(plots.contributions_over_time, contrib, data))
    parts.figure("Response curves (94% bands)", partial(plots.response_curves, curves, weekly.sum()))
    return roas, mroas


def _group_estimates(roas: xr.DataArray, data: MMMData, parts: Parts) -> None:
    """Each group's own ROAS (its contribution over its own spend), published as `roas_<channel>:<group>`
    beside the pooled figure, which is total contribution over total spend."""
    rows = []
    for g in roas["group"].values:
        for c in data.channels:
            est = from_draws(roas.sel(group=g, channel=c).transpose("chain", "draw").values)
            parts.estimates[f"roas_{c}:{g}"] = est
            rows.append(
                {"group": g, "channel": c, "ROAS mean": est.mean, "hdi_low": est.hdi_low, "hdi_high": est.hdi_high}
            )
    what = "its own spend" if data.regional_spend else "the national spend every group sees"
    parts.tables[f"ROAS by {'region' if data.regional_spend else 'group'} (contribution over {what})"] = pd.DataFrame(
        rows
    )
    parts.notes.append(
        "pooled ROAS = total contribution over total spend: "
        + (
            "each region's spend is its own, so the channel's spend is summed over regions"
            if data.regional_spend
            else "every group saw the same national spend, so it is counted once"
        )
    )


def _plan_decision(plan: dict, data: MMMData, opt: MMMOptions, parts: Parts):
    """The plan's incremental revenue posterior against the current plan, and the decision on it."""
    gain = plan["gain"]
    parts.estimates["plan_incremental_revenue"] = from_draws(gain, method="monte-carlo")
    roi = summarise_roi(gain, Business(margin_rate=opt.margin_rate), opt.rule, method="monte-carlo")
    # threshold of caring: as set, or 1% of the current plan's expected media contribution (margin applied)
    rule = opt.rule
    if rule.threshold_of_caring == 0:
        rule = replace(rule, threshold_of_caring=0.01 * abs(plan["current_response"]) * opt.margin_rate)
    decision = decide_from_draws(
        gain * opt.margin_rate,
        rule,
        ship_label="reallocate the budget to the optimised plan",
        reject_label="keep the current plan",
        units=" (crores)" if data.spread else "",
    )
    decision.criteria |= {"plan_weeks": plan["weeks"], "weekly_budget": plan["total"]}
    parts.tables[f"budget plan ({plan['weeks']} weeks, {plan['total']:.4g} per week)"] = plan["table"]
    if plan["held"]:
        parts.notes.append(
            f"budget plan: {', '.join(plan['held'])} stay at current spend (not identified by this data: moving "
            "them would follow the priors, not the evidence)"
        )
    parts.figure("Budget plan: optimised against current", partial(plots.plan_bars, plan["table"], gain), "decision")
    return roi, decision


def _optimizer_check(plan: dict) -> Check:
    return Check(
        "budget optimizer converged",
        plan["converged"],
        f"SLSQP {'converged' if plan['converged'] else 'did NOT converge'} for the weeks "
        f"{plan['window'][0]}..{plan['window'][1]}",
        next_step="rerun with wider or narrower --bounds, or a shorter --plan-weeks",
    )


def _model_notes(data: MMMData, opt: MMMOptions, parts: Parts) -> None:
    parts.notes[:0] = list(data.notes) + [
        f"model: pymc-marketing MMM, geometric adstock (l_max {opt.l_max}) then logistic saturation"
        + (", channel effects partially pooled across groups" if data.group and opt.pooled else "")
        + f"; controls {', '.join(data.controls) or 'none'}"
    ]
    if data.group and not data.regional_spend:
        parts.notes.append(
            "ROAS counts only the sales modelled here (the chosen groups), against the whole national spend of "
            "each channel: a channel that pays back across the full catalogue can look weak on a few groups"
        )


def _holdout_check(data: MMMData, opt: MMMOptions, parts: Parts) -> None:
    """Gating: a model that cannot predict the weeks it did not see cannot be trusted to say what a
    different budget would do (the plan is exactly such a prediction)."""
    hold = _holdout(data, opt)
    if hold is None:
        return
    parts.checks.append(
        Check(
            f"out-of-sample: last {hold['weeks']} weeks",
            hold["coverage"] >= 0.75,
            f"94% predictive intervals cover {hold['coverage']:.0%} of held-out weeks; MAPE {hold['mape']:.1%}, "
            f"CRPS {hold['crps']:.4g}",
            {k: hold[k] for k in ("coverage", "mape", "crps")},
            gating=True,
            next_step="the model does not predict unseen weeks: add the controls that explain the level (price, "
            "distribution, promotions), a time-varying baseline, or more history before acting on the plan",
        )
    )
    parts.figure("Out-of-sample: held-out final weeks", partial(plots.holdout, hold))


def _refits(data: MMMData, opt: MMMOptions, roas, parts: Parts, progress) -> None:
    """Calibration against lift tests, sensitivity to the spreading rule, identifiability (each a refit)."""
    if opt.lift_tests:
        progress("refit without the lift tests to show what calibration changed")
        plain, _, _ = mm.fit(data, opt)
        before, _ = channel_roas(plain, data)
        parts.tables["calibration: ROAS with and without lift tests"] = _calibration_table(before, roas, opt.lift_tests)
        parts.figure("Calibration: ROAS before and after lift tests", partial(plots.calibration, before, roas))
    if data.respread is not None and opt.spread_sensitivity and data.spread in SPREADS:
        other = next(s for s in SPREADS if s != data.spread)
        progress(f"refit with monthly spend spread by '{other}' (sensitivity to the mixed-frequency assumption)")
        alt_mmm, _, _ = mm.fit(data.respread(other), opt, lift_tests=opt.lift_tests)
        alt_roas, _ = channel_roas(alt_mmm, data.respread(other))
        parts.tables[f"sensitivity: ROAS under spread '{data.spread}' vs '{other}'"] = _sensitivity_table(
            roas, alt_roas, data.spread, other
        )
        parts.figure(
            "Sensitivity of ROAS to how monthly spend is spread over weeks",
            partial(plots.sensitivity, roas, alt_roas, data.spread, other),
        )
    if opt.identifiability:
        progress("identifiability: the simulator on this spend design, with known ROAS")
        weekly = data.spend_by_week().reset_index(drop=True)
        ident = identifiability(weekly, data.channels, opt, seed=opt.sampler.seed)
        parts.tables["identifiability: ROAS recovered from simulated sales on this spend design"] = ident
        parts.checks.append(_identifiability_check(ident))


def _identifiability_check(ident: pd.DataFrame) -> Check:
    """Gating: a channel whose known ROAS the design cannot recover from simulated sales cannot be valued
    from the real sales either, so a plan that moves money on its account rests on the prior."""
    ok = int(ident["identified"].sum())
    weak = ident.loc[~ident["identified"], "channel"].tolist()
    return Check(
        "identifiability of ROAS on this spend design",
        ok == len(ident),
        f"{ok} of {len(ident)} channels recovered (covered, 94% width < true ROAS): "
        + (", ".join(weak) + " cannot be pinned down by this design" if weak else "every channel"),
        {"identified": ident.loc[ident["identified"], "channel"].tolist(), "next_step": {"experiment_channels": weak}},
        gating=True,
        next_step=(
            f"run a lift test (geo holdout or a spend pulse) on {', '.join(weak)} and add it as a lift test, or hold "
            "those channels' budgets fixed in the plan"
            if weak
            else None
        ),
    )


def _calibration_table(before: xr.DataArray, after: xr.DataArray, tests) -> pd.DataFrame:
    tested = {t["channel"] for t in tests}
    rows = []
    for c in before["channel"].values:
        b, a = before.sel(channel=c).values.ravel(), after.sel(channel=c).values.ravel()
        wb, wa = np.subtract(*np.quantile(b, [0.97, 0.03])), np.subtract(*np.quantile(a, [0.97, 0.03]))
        rows.append(
            {
                "channel": c,
                "lift test": c in tested,
                "ROAS before": b.mean(),
                "94% width before": wb,
                "ROAS after": a.mean(),
                "94% width after": wa,
                "width ratio": wa / wb if wb > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _sensitivity_table(a: xr.DataArray, b: xr.DataArray, name_a: str, name_b: str) -> pd.DataFrame:
    rows = []
    for c in a["channel"].values:
        x, z = a.sel(channel=c).values.ravel(), b.sel(channel=c).values.ravel()
        rows.append(
            {
                "channel": c,
                f"ROAS ({name_a})": x.mean(),
                f"3%..97% ({name_a})": f"{np.quantile(x, 0.03):.3g}..{np.quantile(x, 0.97):.3g}",
                f"ROAS ({name_b})": z.mean(),
                f"3%..97% ({name_b})": f"{np.quantile(z, 0.03):.3g}..{np.quantile(z, 0.97):.3g}",
                "relative change": z.mean() / x.mean() - 1 if x.mean() else np.nan,
            }
        )
    return pd.DataFrame(rows)


def identifiability(spend: pd.DataFrame, channels: list[str], opt: MMMOptions, *, seed: int = 0) -> pd.DataFrame:
    """Run the user's own spend matrix through the simulator (known ROAS), fit, and report per channel
    whether the truth was recovered and how wide its interval is: which ROAS the design can identify."""
    from bayescausal.data.weekly import MMMData
    from bayescausal.simulate.mmm import simulate

    frame, truth = simulate(spend=spend[channels], seed=seed, l_max=opt.l_max)
    sim = MMMData(frame=frame, channels=channels, controls=["sale_event", "trend"])
    fitted, _, _ = mm.fit(sim, replace(opt, holdout_weeks=0))
    roas, _ = channel_roas(fitted)
    rows = []
    for c in channels:
        d = roas.sel(channel=c).values.ravel()
        lo, hi = np.quantile(d, [0.03, 0.97])
        rows.append(
            {
                "channel": c,
                "true ROAS": truth.roas[c],
                "posterior mean": d.mean(),
                "3%": lo,
                "97%": hi,
                "covered": bool(lo <= truth.roas[c] <= hi),
                "relative width": (hi - lo) / truth.roas[c],
                "identified": bool(lo <= truth.roas[c] <= hi and (hi - lo) / truth.roas[c] < 1.0),
            }
        )
    return pd.DataFrame(rows)
