"""`analyze`: one row per customer to a targeting decision, as the shared Result.

Flow: validate -> propensity and overlap -> BCF posterior (stochtree or PyMC) -> CATE summaries,
subgroups and summary tree -> uplift curves (model bands; holdout IPW/DR as the honest check) ->
profit-optimal policy and its posterior against the alternatives -> placebo and predictive checks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.bcf import plots, saved
from bayescausal.bcf import targeting as tg
from bayescausal.bcf.backends import CateFit, ForestSettings, fit_pymc, fit_stochtree
from bayescausal.bcf.checks import ppc_check
from bayescausal.bcf.data import BCFData, Propensity, prepare, propensity_scores, require_arms
from bayescausal.bcf.interpret import summary_tree
from bayescausal.bcf.options import BCFOptions
from bayescausal.bcf.outcomes import outcome_model
from bayescausal.bcf.scoring import Encoding, NewRows, business_of, costs, fallback_note, new_rows, score_table
from bayescausal.errors import DataError, SpecError
from bayescausal.estimates import from_draws
from bayescausal.result import Check, LiftTest, Parts, Result
from bayescausal.roi import Business, decide_from_draws, summarise_roi


def _fit(
    data: BCFData, pi: np.ndarray, opt: BCFOptions, forest: ForestSettings, holdout=None, scored=None, saved_draws=0
) -> CateFit:
    """Run the chosen backend; `holdout` is (BCFData, pi) and `scored` (X, pi) of new customers, both predicted
    alongside (stochtree only). The scored rows' draws come back in `fit.new["scored"]`; with `saved_draws`,
    the thinned forests in `fit.forests`."""
    if opt.backend == "stochtree":
        blocks = ([(holdout[0].X, holdout[1])] if holdout else []) + ([scored] if scored is not None else [])
        x_new = np.vstack([b[0] for b in blocks]) if blocks else None
        pi_new = np.concatenate([b[1] for b in blocks]) if blocks else None
        kind = outcome_model(data.y, data.z, opt.likelihood)
        fit = fit_stochtree(
            data.X, data.z, data.y, pi, forest, kind=kind, X_new=x_new, pi_new=pi_new, saved_draws=saved_draws
        )
        if scored is not None:
            split = len(x_new) - len(scored[0])
            fit.new["scored"] = fit.new["tau"][..., split:]
            fit.new |= {k: v[..., :split] for k, v in fit.new.items() if k != "scored"}
        return fit
    if scored is not None:
        raise SpecError(
            "the PyMC backend cannot score new customers (pymc-bart's out-of-sample draws do not agree with its "
            "in-sample ones in this two-forest model): use backend = 'stochtree' with --predict"
        )
    likelihood = opt.likelihood
    if likelihood == "auto":
        likelihood = "bernoulli" if data.binary_outcome else "gaussian"
    return fit_pymc(data.X, data.z, data.y, pi, forest, likelihood=likelihood)


def _to_score(new: pd.DataFrame, prep: Prepared, opt: BCFOptions, parts: Parts) -> NewRows:
    """The new customers encoded like the fit's rows, their propensity, cost and ids."""
    if opt.backend != "stochtree":
        raise SpecError("--predict needs backend = 'stochtree': the PyMC backend cannot score new customers")
    rows = new_rows(new, Encoding.of(prep.data, opt.covariates), prep.propensity, business_of(opt))
    parts.notes.extend(rows.notes)
    return rows


def _scores(fit: CateFit, scored: NewRows, opt: BCFOptions, parts: Parts) -> None:
    tau = fit.new["scored"].reshape(-1, len(scored.ids)).astype(float)
    table, policy = score_table(
        tau,
        scored.ids,
        margin=opt.margin_rate,
        cost=scored.cost,
        min_prob=opt.min_prob_profit,
        hdi_prob=opt.hdi_prob,
        confidence=opt.rule.min_prob_positive,
    )
    if note := fallback_note(policy, "scored customers"):
        parts.notes.append(note)
    parts.row_outputs["scores"] = table
    parts.extra["scored"] = {"customers": len(table), "to_treat": int(table["treat"].sum())}
    parts.notes.append(
        f"scored {len(table):,} new customers with the fitted forests: {int(table['treat'].sum()):,} to treat "
        f"(expected profit {table['expected_profit'].clip(lower=0).sum():,.4g} from treating them)"
    )


def _overlap(pi: np.ndarray, z: np.ndarray, randomised: bool) -> Check:
    """Gating: without overlap some customers have (almost) no comparable counterparts in the other arm,
    so their CATEs are extrapolations of the forest, not estimates."""
    extreme = float(np.mean((pi < 0.05) | (pi > 0.95)))
    lo_t, hi_c = float(pi[z == 1].min()), float(pi[z == 0].max())
    detail = (
        f"randomised: pi_hat = {pi[0]:.3f} for everyone"
        if randomised
        else f"{extreme:.1%} of rows have pi_hat outside [0.05, 0.95]; treated pi_hat >= {lo_t:.3f}, "
        f"control pi_hat <= {hi_c:.3f}" + ("" if extreme < 0.01 else " -- consider trim = [0.05, 0.95]")
    )
    return Check(
        "overlap (propensity)",
        extreme < 0.01,
        detail,
        {"share_extreme": extreme, "next_step": {"trim": [0.05, 0.95]}},
        gating=True,
        next_step="drop the rows without overlap (trim = [0.05, 0.95], --trim 0.05,0.95) and state that the policy "
        "covers only the customers both arms reach, or randomise the next campaign",
    )


def _segment_table(data: BCFData, tau_flat: np.ndarray, segments: tuple[str, ...], hdi_prob: float) -> pd.DataFrame:
    rows = []
    for col in segments:
        if col not in data.covariates.columns:
            raise SpecError(f"segment '{col}' is not a covariate (covariates: {', '.join(data.covariates.columns)})")
        values = data.covariates[col]
        levels = sorted(values.unique()) if values.nunique() <= 12 else None
        groups = (
            {f"{col} = {v}": (values == v).to_numpy() for v in levels}
            if levels is not None
            else {
                f"{col} in {iv}": (pd.qcut(values, 4, duplicates="drop") == iv).to_numpy()
                for iv in pd.qcut(values, 4, duplicates="drop").cat.categories
            }
        )
        for label, mask in groups.items():
            est = from_draws(tau_flat[:, mask].mean(1), method="mcmc", hdi_prob=hdi_prob)
            rows.append({"segment": label, "n": int(mask.sum()), **_est_cols(est)})
    return pd.DataFrame(rows)


def _est_cols(est) -> dict:
    return {
        "mean": est.mean,
        "sd": est.sd,
        "hdi_low": est.hdi_low,
        "hdi_high": est.hdi_high,
        "P(> 0)": est.prob_positive,
    }


def _deciles(tau_flat, order, y, z, gamma) -> pd.DataFrame:
    """Uplift by decile of the ranking: predicted (posterior) against observed on the same rows."""
    rows = []
    for d, idx in enumerate(np.array_split(order, 10), start=1):
        pred = tau_flat[:, idx].mean(1)
        zt, yt = z[idx], y[idx]
        observed = yt[zt == 1].mean() - yt[zt == 0].mean() if 0 < zt.sum() < len(zt) else np.nan
        rows.append(
            {
                "decile": d,
                "n": len(idx),
                "predicted mean": pred.mean(),
                "predicted 3%": np.quantile(pred, 0.03),
                "predicted 97%": np.quantile(pred, 0.97),
                "observed diff-in-means": observed,
                "IPW estimate": gamma[idx].mean(),
            }
        )
    return pd.DataFrame(rows)


def _curves(tau_flat, y, z, gamma, order, seed) -> dict:
    """Model-based gain (posterior bands), data-based gain/Qini with ranking-uncertainty bands, AUUC."""
    n = len(y)
    depths = tg.depth_grid(n)
    gain = tg.model_gain(tau_flat, order, depths)
    rng = np.random.default_rng(seed)
    picks = rng.choice(tau_flat.shape[0], size=min(100, tau_flat.shape[0]), replace=False)
    qini_draws = np.stack([tg.qini(y, z, tg.ranking(tau_flat[s]), depths) for s in picks])
    pseudo_draws = np.stack([tg.pseudo_gain(gamma, tg.ranking(tau_flat[s]), depths) for s in picks])
    return {
        "depths": depths,
        "model_gain": gain,
        "observed_gain": tg.observed_gain(y, z, order, depths),
        "qini": tg.qini(y, z, order, depths),
        "qini_draws": qini_draws,
        "pseudo_gain": tg.pseudo_gain(gamma, order, depths),
        "pseudo_gain_draws": pseudo_draws,
        "auuc_model": tg.auuc(gain, depths),
        "auuc_pseudo": tg.auuc(pseudo_draws, depths),
    }


@dataclass
class Prepared:
    """The rows the forest sees (after arm selection, trimming and the holdout split) and their inputs."""

    data: BCFData
    pi: np.ndarray
    cost: np.ndarray
    holdout: tuple[BCFData, np.ndarray] | None = None
    holdout_cost: np.ndarray | None = None
    propensity: Propensity | None = None  # the fitted pi_hat(x); None when a propensity column was given


@dataclass
class Uplift:
    """Gain/Qini curves and the decile table, and which rows they were computed on."""

    curves: dict
    deciles: pd.DataFrame
    rows: str


def analyze(frame: pd.DataFrame, options: BCFOptions | None = None, *, new: pd.DataFrame | None = None) -> Result:
    """One row per customer to the profit-optimal targeting decision (see the module docstring).
    With `treated_value` and `control_value`, rows in any other arm (a third e-mail, say) are left out; with
    `control_value` alone, every other level is an offer and bcf/offers.py chooses the offer per customer.
    `new`: customers to score with the fitted forests (`row_outputs["scores"]`, in their own order)."""
    opt = options or BCFOptions()
    opt.require_columns()
    if opt.control_value is not None and opt.treated_value is None:  # every other level is an offer
        from bayescausal.bcf import offers

        levels = offers.offer_levels(frame, opt)
        if len(levels) > 1:
            return offers.analyze(frame, opt, _costs(frame, opt), new)
        opt = replace(opt, treated_value=levels[0])
    parts = Parts()
    prep = _prepare(frame, opt, parts)
    scored = _to_score(new, prep, opt, parts) if new is not None else None
    fit = _fit(
        prep.data, prep.pi, opt, opt.forest, prep.holdout, (scored.X, scored.pi) if scored else None, opt.saved_draws
    )
    if fit.forests:
        label = str(opt.treated_value) if opt.treated_value is not None else "treated"
        encoding = Encoding.of(prep.data, opt.covariates)
        parts.artifacts[saved.FILE] = saved.saved_model(fit, (label,), encoding, prep.propensity, opt).to_bytes()
    if scored is not None:
        _scores(fit, scored, opt, parts)
    parts.timings["fit_s"] = fit.seconds
    tau = fit.tau  # (chain, draw, n)
    chains = tau.shape[0]
    tau_flat = tau.reshape(-1, tau.shape[-1]).astype(float)  # (sample, n), once for every stage below
    tree = _effects(prep.data, tau, tau_flat, opt, parts)
    profit = tg.profit_draws(tau_flat, opt.margin_rate, prep.cost)
    alternatives = (
        {f"heuristic ({opt.heuristic})": _query(prep.data.covariates, opt.heuristic)} if opt.heuristic else {}
    )
    policy = tg.optimal_policy(
        profit, min_prob=opt.min_prob_profit, alternatives=alternatives, confidence=opt.rule.min_prob_positive
    )
    if note := fallback_note(policy, "fitted customers"):
        parts.notes.append(note)
    diagnostics, sampled = _diagnose(fit, tau_flat, prep.data.z, tree, policy, opt, parts)
    uplift = _uplift(prep, fit, tau_flat, opt, parts)
    parts.checks.append(ppc_check(prep.data.y, fit))
    if opt.placebo:
        parts.checks.append(_placebo(prep.data, prep.pi, opt, parts.estimates["ate"]))
    roi, decision = _money(prep, tau_flat, chains, policy, opt, parts)
    _tables_and_figures(prep, tau_flat, profit, policy, alternatives, tree, uplift, opt, parts)
    source = (
        "given column"
        if prep.propensity is None
        else ("known share (randomised)" if opt.randomised else "logistic regression")
    )
    parts.notes.insert(
        0,
        f"model: {fit.method}; propensity: {source}; profit = {opt.margin_rate} x incremental {prep.data.outcome} "
        "- cost per treated customer",
    )
    parts.inputs |= {"treated": int(prep.data.z.sum()), "covariates": list(opt.covariates)}
    ate, n = parts.estimates["ate"], prep.data.n
    lift = LiftTest(ate.mean, ate.sd, n, "customer", ate.mean * n, ate.sd * n, label=prep.data.outcome)
    title = f"Causal forest: who should get '{opt.treatment}' ({opt.outcome})"
    posterior = _posterior_tree(sampled, tau, policy)
    return parts.result(
        "bcf", title, decision, diagnostics, roi=roi, posterior=posterior, sampled=sampled, lift_test=lift
    )


def _prepare(frame: pd.DataFrame, opt: BCFOptions, parts: Parts) -> Prepared:
    """Arm selection, validation, costs, propensity and overlap, trimming, and the holdout split."""
    if opt.control_value is not None:
        if opt.treated_value is None:
            raise SpecError("control_value needs treated_value (the arm compared with it)")
        if opt.treatment not in frame.columns:
            raise DataError(f"treatment column '{opt.treatment}' is not in the data")
        arms = frame[opt.treatment].astype(str).str.strip()
        frame = frame[arms.isin([str(opt.treated_value).strip(), str(opt.control_value).strip()])]
        frame = frame.reset_index(drop=True)
    data = prepare(
        frame,
        outcome=opt.outcome,
        treatment=opt.treatment,
        covariates=list(opt.covariates),
        treated_value=opt.treated_value,
        id_column=opt.id,
    )
    cost = _costs(frame, opt)
    given = None
    if opt.propensity_column is not None:
        if opt.propensity_column not in frame.columns:
            raise DataError(f"propensity column '{opt.propensity_column}' is not in the data")
        given = frame[opt.propensity_column].to_numpy(dtype=float)
    propensity = None if given is not None else Propensity.fit(data.X, data.z, randomised=opt.randomised)
    pi = (
        propensity_scores(data, randomised=opt.randomised, given=given)
        if given is not None
        else propensity.predict(data.X)
    )
    parts.checks.append(_overlap(pi, data.z, opt.randomised))
    parts.figure("Overlap: propensity by arm", partial(plots.overlap, pi, data.z))
    if opt.trim is not None:
        keep = (pi >= opt.trim[0]) & (pi <= opt.trim[1])
        parts.notes.append(f"trimmed {int((~keep).sum())} row(s) with pi_hat outside {list(opt.trim)}")
        data, pi, cost = data.subset(keep), pi[keep], cost[keep]
        require_arms(data.z, opt.treatment, why=f"after trimming to pi_hat in {list(opt.trim)}")
    prep = Prepared(data, pi, cost, propensity=propensity)
    if opt.holdout:
        train = np.random.default_rng(opt.forest.seed).random(data.n) >= opt.holdout
        require_arms(data.z[train], opt.treatment, why=f"in the training rows (holdout {opt.holdout:.0%})")
        prep = Prepared(
            data.subset(train),
            pi[train],
            cost[train],
            (data.subset(~train), pi[~train]),
            cost[~train],
            propensity,
        )
    return prep


def _effects(data: BCFData, tau: np.ndarray, tau_flat: np.ndarray, opt: BCFOptions, parts: Parts):
    """ATE, ATT, ATC and the summary tree, whose leaves are posterior subgroup effects."""
    chains = tau.shape[0]
    parts.estimates["ate"] = _mcmc(tau_flat.mean(1), chains, opt)
    parts.estimates["att"] = _mcmc(tau_flat[:, data.z == 1].mean(1), chains, opt)
    parts.estimates["atc"] = _mcmc(tau_flat[:, data.z == 0].mean(1), chains, opt)
    tree = summary_tree(data.X, data.names, tau, depth=opt.tree_depth, seed=opt.forest.seed)
    for k in range(len(tree.leaves)):
        parts.estimates[f"cate_leaf_{k + 1}"] = _mcmc(tree.leaf_draws[..., k].ravel(), chains, opt)
    parts.notes.append(
        "summary-tree leaves: " + "; ".join(f"leaf {k + 1} = {r}" for k, r in enumerate(tree.leaves["rule"]))
    )
    return tree


def _mcmc(values: np.ndarray, chains: int, opt: BCFOptions):
    return from_draws(np.asarray(values).reshape(chains, -1), method="mcmc", hdi_prob=opt.hdi_prob)


def _diagnose(fit: CateFit, tau_flat: np.ndarray, z: np.ndarray, tree, policy, opt: BCFOptions, parts: Parts):
    """Across chains: the decision quantities gate; subgroup effects and sigma are shown, not gating."""
    chains, draws, _ = fit.tau.shape
    gated = {"ate": tau_flat.mean(1), "att": tau_flat[:, z == 1].mean(1), "profit_targeted": policy.profit["targeted"]}
    shown = {f"cate_leaf_{k + 1}": tree.leaf_draws[..., k].ravel() for k in range(tree.leaf_draws.shape[-1])}
    if fit.sigma is not None:
        shown["sigma"] = fit.sigma.ravel()
    scalars = xr.Dataset({k: (("chain", "draw"), v.reshape(chains, draws)) for k, v in (gated | shown).items()})
    sampled = xr.DataTree.from_dict({"posterior": scalars})
    if fit.sampled is not None and "sample_stats" in fit.sampled.children:
        sampled["sample_stats"] = fit.sampled["sample_stats"]
    diagnostics = diag.diagnose(
        sampled, list(gated), opt.thresholds, method=f"{fit.method}; gating: {', '.join(gated)}"
    )
    side = diag.diagnose(sampled, list(shown), opt.thresholds, method=fit.method)
    diagnostics.table = pd.concat([diagnostics.table, side.table.assign(gates=False)], ignore_index=True)
    parts.checks.append(
        Check(
            "mixing of subgroup effects and sigma (not gating)",
            side.passed,
            "summary-tree leaf effects and sigma mixed well across chains"
            if side.passed
            else "; ".join(side.problems) + f" (these quantities only; the gate reads {', '.join(gated)}, which "
            "passed or failed on their own numbers): BART moves slowly through tree space, so treat the leaf "
            "intervals as approximate; the decision rests on ATE, ATT and the policy's profit",
            {"max_rhat": side.max_rhat, "min_ess_bulk": side.min_ess_bulk},
            next_step=f"run more chains (--chains {2 * chains}, this run used {chains}): for BART, more chains mix "
            "better than longer ones",
        )
    )
    return diagnostics, sampled


def _uplift(prep: Prepared, fit: CateFit, tau_flat: np.ndarray, opt: BCFOptions, parts: Parts) -> Uplift:
    """Uplift curves and deciles: on the holdout when there is one (honest), else in-sample."""
    seed = opt.forest.seed
    if prep.holdout is None:
        data = prep.data
        gamma = tg.pseudo_outcomes(data.y, data.z, prep.pi, fit.m0, fit.m1)
        order = tg.ranking(tau_flat.mean(0))
        return Uplift(
            _curves(tau_flat, data.y, data.z, gamma, order, seed),
            _deciles(tau_flat, order, data.y, data.z, gamma),
            f"all {data.n} rows, in-sample (optimistic: set a holdout for an honest check)",
        )
    hd, hpi = prep.holdout
    new_tau = fit.new["tau"].reshape(-1, hd.n).astype(float)
    gamma = tg.pseudo_outcomes(hd.y, hd.z, hpi, fit.new["m0"], fit.new["m1"])
    order = tg.ranking(new_tau.mean(0))
    curves = _curves(new_tau, hd.y, hd.z, gamma, order, seed)
    rows = f"{hd.n} held-out rows"
    treat = (opt.margin_rate * new_tau - np.asarray(prep.holdout_cost)).mean(0) > 0
    value = tg.policy_value(gamma, treat, opt.margin_rate, prep.holdout_cost)
    value_all = tg.policy_value(gamma, np.ones(hd.n, bool), opt.margin_rate, prep.holdout_cost)
    parts.notes.append(
        f"holdout check ({rows}, doubly robust): targeting the {treat.mean():.0%} with positive expected "
        f"profit earns {value:,.2f} against {value_all:,.2f} for treating all of them"
    )
    above = float(np.mean(curves["auuc_pseudo"] > 0))
    parts.checks.append(
        Check(
            "holdout: targeting beats random (doubly robust AUUC)",
            above >= 0.5,
            f"AUUC above random on held-out rows in {above:.0%} of posterior rankings "
            f"(mean {np.mean(curves['auuc_pseudo']):.4g})",
            {"auuc_mean": float(np.mean(curves["auuc_pseudo"])), "policy_value": value, "treat_all": value_all},
            next_step="the ranking does not generalise: prefer treating everyone or no one, or collect more data",
        )
    )
    return Uplift(curves, _deciles(new_tau, order, hd.y, hd.z, gamma), rows)


def _money(prep: Prepared, tau_flat: np.ndarray, chains: int, policy, opt: BCFOptions, parts: Parts):
    """The policy's profit posterior against the alternatives, the ROI, and the decision."""
    n = prep.data.n
    profit_t = policy.profit["targeted"]
    n_treat = int(policy.treat.sum())
    cost_t = float(np.sum(np.broadcast_to(prep.cost, (n,))[policy.treat]))
    revenue_t = tau_flat[:, policy.treat].sum(1)
    roi = summarise_roi(revenue_t, Business(opt.margin_rate, cost_t or None), opt.rule)
    for name, draws in policy.profit.items():
        if name != "treat none":
            parts.estimates[f"profit_{name.split(' (')[0].replace(' ', '_')}"] = _mcmc(draws, chains, opt)
    gain_vs_all = profit_t - policy.profit["treat all"]
    parts.estimates["profit_targeted_minus_treat_all"] = _mcmc(gain_vs_all, chains, opt)
    parts.estimates["best_targeting_share"] = from_draws(
        policy.best_depth / n, method="mcmc", hdi_prob=opt.hdi_prob, signed=False
    )
    # threshold of caring: as set, or 1% of the policy's expected gross incremental profit (the stake)
    stake = abs(float(np.mean(revenue_t))) * opt.margin_rate
    rule = opt.rule if opt.rule.threshold_of_caring > 0 else replace(opt.rule, threshold_of_caring=0.01 * stake)
    if n_treat == 0:
        decision = decide_from_draws(  # (chain, draw): the Monte-Carlo errors use the effective sample size
            policy.profit["treat all"].reshape(chains, -1),
            rule,
            ship_label="treat everyone",
            reject_label="do not run the campaign",
            units=" (profit)",
            quantity="profit of treating everyone",
        )
        why = (
            "targeting is not probably better than treating no one"
            if policy.fallback
            else "no customer has positive expected incremental profit"
        )
        decision.reason = f"{why}; treating everyone: " + decision.reason
    else:
        label = f"target {n_treat:,} of {n:,} customers ({n_treat / n:.0%})"
        decision = decide_from_draws(
            profit_t.reshape(chains, -1),
            rule,
            ship_label="treat everyone" if policy.fallback == "treat all" else label,
            reject_label="do not run the campaign",
            units=" (profit)",
            quantity="profit",
        )
    decision.criteria |= {
        "customers_targeted": n_treat,
        "prob_targeted_beats_treat_all": float(np.mean(gain_vs_all > 0)),
        "prob_cate_rule_beats_simple_policy": policy.prob_beats_uniform,
        "simple_policy_kept": policy.fallback,
        "expected_profit_targeted": float(profit_t.mean()),
        "expected_profit_treat_all": float(policy.profit["treat all"].mean()),
    }
    return roi, decision


def _tables_and_figures(prep, tau_flat, profit, policy, alternatives, tree, uplift: Uplift, opt, parts: Parts) -> None:
    curves, deciles, curve_rows = uplift.curves, uplift.deciles, uplift.rows
    parts.estimates["auuc"] = from_draws(curves["auuc_model"], method="monte-carlo", hdi_prob=opt.hdi_prob)
    policies = pd.DataFrame(
        [
            {
                "policy": name,
                "customers": int(policy.masks[name].sum()),
                **_est_cols(from_draws(d, method="monte-carlo", hdi_prob=opt.hdi_prob)),
                "P(beats treat-all)": float(np.mean(d > policy.profit["treat all"])),
            }
            for name, d in policy.profit.items()
        ]
    )
    cate = _cate_table(prep.data, tau_flat, opt.hdi_prob, policy)
    parts.row_outputs["cate"] = cate
    parts.tables |= {
        "policies (posterior incremental profit)": policies,
        "summary tree leaves (posterior subgroup effects)": tree.leaves,
        f"uplift by decile ({curve_rows})": deciles,
        "split stability across posterior draws": tree.stability.reset_index(),
        "variable importance (summary tree)": tree.importance.rename("importance")
        .rename_axis("variable")
        .reset_index(),
    }
    if opt.segments:
        parts.tables["CATE by segment"] = _segment_table(prep.data, tau_flat, opt.segments, opt.hdi_prob)
    parts.tables["top customers by expected profit"] = cate.sort_values("expected_profit", ascending=False).head(20)
    parts.figure("Targeting: campaign profit by policy", partial(plots.policy_profit, policy.profit), "decision")
    parts.figure(
        "Profit by targeting depth (posterior band) and the best depth",
        partial(plots.profit_depth, profit, policy, opt.hdi_prob),
    )
    parts.figure(f"Uplift: cumulative gain ({curve_rows})", partial(plots.gain_curves, curves))
    parts.figure("Qini curve (band: ranking uncertainty)", partial(plots.qini_curve, curves))
    parts.figure("Cumulative elasticity: average effect among the top k", partial(plots.elasticity_curve, curves))
    parts.figure("CATE posterior per customer (sorted)", partial(plots.cate_caterpillar, tau_flat))
    parts.figure("Summary tree: posterior effect per leaf", partial(plots.leaf_effects, tree.leaves))


def _posterior_tree(sampled: xr.DataTree, tau: np.ndarray, policy) -> xr.DataTree:
    posterior = xr.DataTree.from_dict(
        {
            "posterior": sampled["posterior"].to_dataset(),
            "targeting": xr.Dataset(
                {
                    "profit": (("policy", "sample"), np.stack(list(policy.profit.values()))),
                    "best_depth": (("sample",), policy.best_depth),
                },
                coords={"policy": list(policy.profit)},
            ),
        }
    )
    if tau.size <= 5_000_000:
        posterior["cate"] = xr.Dataset(
            {"tau": (("chain", "draw", "unit"), tau)}, coords={"unit": np.arange(tau.shape[-1])}
        )
    return posterior


def _costs(frame: pd.DataFrame, opt: BCFOptions) -> np.ndarray:  # cost of treating each row
    return costs(frame, opt.cost_per_treated, opt.cost_column)


def _query(covariates: pd.DataFrame, expr: str) -> np.ndarray:
    try:
        return covariates.eval(expr).to_numpy(dtype=bool)
    except Exception as exc:  # pandas raises many types for a bad expression
        raise SpecError(f"heuristic {expr!r} is not a valid rule over the covariates: {exc}") from exc


def _cate_table(data: BCFData, tau_flat: np.ndarray, hdi_prob: float, policy: tg.Policy) -> pd.DataFrame:
    tail = (1 - hdi_prob) / 2
    lo, hi = np.quantile(tau_flat, [tail, 1 - tail], axis=0)
    return pd.DataFrame(
        {
            "id": data.ids,
            "cate_mean": tau_flat.mean(0),
            "cate_sd": tau_flat.std(0),
            f"cate_eti_{tail:.0%}": lo,
            f"cate_eti_{1 - tail:.0%}": hi,
            "prob_positive": (tau_flat > 0).mean(0),
            "expected_profit": policy.expected_profit,
            "prob_profitable": policy.prob_profitable,
            "treat": policy.treat,
        }
    )


def _placebo(data: BCFData, pi: np.ndarray, opt: BCFOptions, ate) -> Check:
    """Refit with the treatment permuted: the effects must vanish. Gating: a forest that finds effects in
    shuffled labels finds them in noise, so its real CATEs and the policy built on them cannot be trusted."""
    rng = np.random.default_rng(opt.forest.seed + 1)
    fake = replace(data, z=rng.permutation(data.z))
    forest = replace(opt.forest, draws=max(50, opt.forest.draws // 2), chains=min(opt.forest.chains, 2))
    fake_pi = pi if opt.randomised else np.full(data.n, data.z.mean())
    fit = _fit(fake, fake_pi, opt, forest)
    ate_p = from_draws(fit.tau.mean(-1), method="mcmc", hdi_prob=opt.hdi_prob)
    p = float(ate_p.prob_positive)
    ok = 0.005 <= p <= 0.995  # a two-sided 1% check: fails about 1 run in 100 when nothing is wrong
    return Check(
        "placebo (permuted treatment)",
        ok,
        f"placebo ATE {ate_p.mean:.4g}, {ate_p.hdi_prob:.0%} HDI {ate_p.interval_text()}, P(> 0) = {p:.3f}: "
        f"{'consistent with' if ok else 'NOT consistent with'} no effect (real ATE {ate.mean:.4g})",
        {"placebo_ate": ate_p.mean, "hdi_low": ate_p.hdi_low, "hdi_high": ate_p.hdi_high},
        gating=True,
        next_step="refit with another seed and more chains; if the placebo still finds an effect, the forest is "
        "fitting noise: use fewer effect trees or a simpler model before targeting",
    )
