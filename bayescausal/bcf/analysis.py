"""`analyze`: one row per customer to a targeting decision, as the shared Result.

Flow: validate -> propensity and overlap -> BCF posterior (stochtree or PyMC) -> CATE summaries,
subgroups and summary tree -> uplift curves (model bands; holdout IPW/DR as the honest check) ->
profit-optimal policy and its posterior against the alternatives -> placebo and predictive checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.bcf import plots
from bayescausal.bcf import targeting as tg
from bayescausal.bcf.backends import CateFit, ForestSettings, fit_pymc, fit_stochtree, observed_stats
from bayescausal.bcf.data import BCFData, prepare, propensity_scores
from bayescausal.bcf.interpret import summary_tree
from bayescausal.diagnostics import ppc_flagged, ppc_pvalues
from bayescausal.errors import DataError, SpecError
from bayescausal.estimates import from_draws
from bayescausal.result import Check, Result
from bayescausal.roi import Business, DecisionRule, decide_from_draws, summarise_roi

BACKENDS = ("stochtree", "pymc")
# BART posteriors live on tree space and mix slowly; scalar functionals are gated at R-hat 1.05 / ESS 100
BCF_THRESHOLDS = diag.Thresholds(max_rhat=1.05, min_ess=100)


@dataclass(frozen=True)
class BCFOptions:
    backend: str = "stochtree"  # the benchmark's pick: faster and more accurate (README, benchmarks/bcf.py)
    likelihood: str = "auto"  # auto (Gaussian, or probit/logit for 0/1 outcomes) | student-t | hurdle (pymc)
    randomised: bool = False  # known assignment share as pi_hat (else a logistic propensity model)
    margin: float = 0.05  # profit margin on incremental outcome (sales)
    cost_per_treated: float = 0.0  # cost of treating one customer (discount, coupon, e-mail)
    cost_column: str | None = None  # per-customer cost instead
    min_prob_profit: float = 0.0  # risk adjustment: treat only where P(profit > 0) exceeds this
    heuristic: str | None = None  # a simple rule to compare with, as a pandas query ("age < 40")
    segments: tuple[str, ...] = ()  # covariates to report CATE by
    holdout: float = 0.0  # share of rows held out for honest gain curves (stochtree backend)
    trim: tuple[float, float] | None = None  # drop rows with pi_hat outside this range
    placebo: bool = True
    tree_depth: int = 2
    hdi_prob: float = 0.94
    forest: ForestSettings = field(default_factory=ForestSettings)
    rule: DecisionRule = field(default_factory=DecisionRule)
    thresholds: diag.Thresholds = BCF_THRESHOLDS

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise SpecError(f"backend must be one of {', '.join(BACKENDS)}, got '{self.backend}'")
        if not 0 <= self.holdout < 0.9:
            raise SpecError(f"holdout must be a share in [0, 0.9), got {self.holdout}")
        if self.holdout and self.backend != "stochtree":
            raise SpecError("a holdout needs backend = 'stochtree' (the pymc backend gives in-sample CATEs only)")
        if self.trim is not None and not 0 <= self.trim[0] < self.trim[1] <= 1:
            raise SpecError(f"trim must be (low, high) with 0 <= low < high <= 1, got {self.trim}")
        if not 0 < self.margin <= 1:
            raise SpecError(f"margin must be in (0, 1], got {self.margin}")
        if self.cost_per_treated < 0:
            raise SpecError(f"cost_per_treated must be >= 0, got {self.cost_per_treated}")


def _fit(data: BCFData, pi: np.ndarray, opt: BCFOptions, forest: ForestSettings, holdout=None) -> CateFit:
    """Run the chosen backend; `holdout` is (BCFData, pi) predicted alongside (stochtree only)."""
    if opt.backend == "stochtree":
        if opt.likelihood not in ("auto", "gaussian", "probit"):
            raise SpecError(f"likelihood '{opt.likelihood}' needs backend = 'pymc' (stochtree: gaussian or probit)")
        binary = data.binary_outcome if opt.likelihood == "auto" else opt.likelihood == "probit"
        x_new, pi_new = (holdout[0].X, holdout[1]) if holdout else (None, None)
        return fit_stochtree(data.X, data.z, data.y, pi, forest, binary=binary, X_new=x_new, pi_new=pi_new)
    likelihood = opt.likelihood
    if likelihood == "auto":
        likelihood = "bernoulli" if data.binary_outcome else "gaussian"
    return fit_pymc(data.X, data.z, data.y, pi, forest, likelihood=likelihood)


def _overlap(pi: np.ndarray, z: np.ndarray, randomised: bool) -> Check:
    extreme = float(np.mean((pi < 0.05) | (pi > 0.95)))
    lo_t, hi_c = float(pi[z == 1].min()), float(pi[z == 0].max())
    detail = (
        f"randomised: pi_hat = {pi[0]:.3f} for everyone"
        if randomised
        else f"{extreme:.1%} of rows have pi_hat outside [0.05, 0.95]; treated pi_hat >= {lo_t:.3f}, "
        f"control pi_hat <= {hi_c:.3f}" + ("" if extreme < 0.01 else " -- consider trim = [0.05, 0.95]")
    )
    return Check("overlap (propensity)", extreme < 0.01, detail, {"share_extreme": extreme})


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


def analyze(
    frame: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: list[str],
    options: BCFOptions | None = None,
    treated_value=None,
    control_value=None,
    id_column: str | None = None,
    propensity_column: str | None = None,
    inputs: dict | None = None,
    title: str | None = None,
) -> Result:
    """With `treated_value` and `control_value`, rows in any other arm (a third e-mail, say) are left out."""
    opt = options or BCFOptions()
    t0 = time.perf_counter()
    if control_value is not None:
        if treated_value is None:
            raise SpecError("control_value needs treated_value (the arm compared with it)")
        if treatment not in frame.columns:
            raise DataError(f"treatment column '{treatment}' is not in the data")
        frame = frame[frame[treatment].isin([treated_value, control_value])].reset_index(drop=True)
    data = prepare(
        frame,
        outcome=outcome,
        treatment=treatment,
        covariates=covariates,
        treated_value=treated_value,
        id_column=id_column,
    )
    cost_all = _costs(frame, opt)
    given = None
    if propensity_column is not None:
        if propensity_column not in frame.columns:
            raise DataError(f"propensity column '{propensity_column}' is not in the data")
        given = frame[propensity_column].to_numpy(dtype=float)
    pi = propensity_scores(data, randomised=opt.randomised, given=given)
    checks = [_overlap(pi, data.z, opt.randomised)]
    notes = []
    figures = {"Overlap: propensity by arm": partial(plots.overlap, pi, data.z)}
    if opt.trim is not None:
        keep = (pi >= opt.trim[0]) & (pi <= opt.trim[1])
        notes.append(f"trimmed {int((~keep).sum())} row(s) with pi_hat outside {list(opt.trim)}")
        data, pi, cost_all = data.subset(keep), pi[keep], cost_all[keep]

    holdout = None
    if opt.holdout:
        rng = np.random.default_rng(opt.forest.seed)
        train_mask = rng.random(data.n) >= opt.holdout
        holdout = (data.subset(~train_mask), pi[~train_mask])
        cost_h = cost_all[~train_mask]
        data, pi, cost_all = data.subset(train_mask), pi[train_mask], cost_all[train_mask]
    fit = _fit(data, pi, opt, opt.forest, holdout)
    tau = fit.tau  # (chain, draw, n)
    chains, draws, n = tau.shape
    tau_flat = tau.reshape(-1, n).astype(float)

    def mcmc(values: np.ndarray):
        return from_draws(values.reshape(chains, draws), method="mcmc", hdi_prob=opt.hdi_prob)

    ate_draws = tau_flat.mean(1)
    att_draws = tau_flat[:, data.z == 1].mean(1)
    estimates = {"ate": mcmc(ate_draws), "att": mcmc(att_draws), "atc": mcmc(tau_flat[:, data.z == 0].mean(1))}

    # --- interpretation: a summary tree whose leaves are posterior subgroup effects
    tree = summary_tree(data.X, data.names, tau, depth=opt.tree_depth, seed=opt.forest.seed)
    for k in range(len(tree.leaves)):
        estimates[f"cate_leaf_{k + 1}"] = mcmc(tree.leaf_draws[..., k].ravel())
    notes.append("summary-tree leaves: " + "; ".join(f"leaf {k + 1} = {r}" for k, r in enumerate(tree.leaves["rule"])))

    # --- per-customer CATE and profit
    profit = tg.profit_draws(tau_flat, opt.margin, cost_all)
    alternatives = {}
    if opt.heuristic:
        alternatives[f"heuristic ({opt.heuristic})"] = _query(data.covariates, opt.heuristic)
    policy = tg.optimal_policy(profit, min_prob=opt.min_prob_profit, alternatives=alternatives)
    cate = _cate_table(data, tau_flat, opt.hdi_prob, policy)

    # --- diagnostics across chains: the decision quantities gate; subgroup effects and sigma are shown
    gated = {"ate": ate_draws, "att": att_draws, "profit_targeted": policy.profit["targeted"]}
    shown = {f"cate_leaf_{k + 1}": tree.leaf_draws[..., k].ravel() for k in range(tree.leaf_draws.shape[-1])}
    if fit.sigma is not None:
        shown["sigma"] = fit.sigma.ravel()
    posterior_scalars = xr.Dataset(
        {k: (("chain", "draw"), v.reshape(chains, draws)) for k, v in (gated | shown).items()}
    )
    sampled = xr.DataTree.from_dict({"posterior": posterior_scalars})
    if fit.sampled is not None and "sample_stats" in fit.sampled.children:
        sampled["sample_stats"] = fit.sampled["sample_stats"]
    diagnostics = diag.diagnose(sampled, list(gated), opt.thresholds, method=fit.method)
    side = diag.diagnose(sampled, list(shown), opt.thresholds, method=fit.method)
    diagnostics.table = pd.concat([diagnostics.table, side.table], ignore_index=True)
    checks.append(
        Check(
            "mixing of subgroup effects and sigma (shown, not gating)",
            side.passed,
            "summary-tree leaf effects and sigma mixed well across chains"
            if side.passed
            else "; ".join(side.problems) + ": BART moves slowly through tree space, so treat the leaf intervals "
            "as approximate or run longer chains (draws); the decision rests on ATE, ATT and the policy's profit",
            {"max_rhat": side.max_rhat, "min_ess_bulk": side.min_ess_bulk},
        )
    )

    # --- uplift curves: on the holdout when there is one (honest), else in-sample
    if holdout is not None:
        hd, hpi = holdout
        new_tau = fit.new["tau"].reshape(-1, hd.n).astype(float)
        gamma = tg.pseudo_outcomes(hd.y, hd.z, hpi, fit.new["m0"], fit.new["m1"])
        order_h = tg.ranking(new_tau.mean(0))
        curves = _curves(new_tau, hd.y, hd.z, gamma, order_h, opt.forest.seed)
        curve_rows = f"{hd.n} held-out rows"
        deciles = _deciles(new_tau, order_h, hd.y, hd.z, gamma)
        treat_h = (opt.margin * new_tau - np.asarray(cost_h)).mean(0) > 0
        value = tg.policy_value(gamma, treat_h, opt.margin, cost_h)
        value_all = tg.policy_value(gamma, np.ones(hd.n, bool), opt.margin, cost_h)
        notes.append(
            f"holdout check ({curve_rows}, doubly robust): targeting the {treat_h.mean():.0%} with positive expected "
            f"profit earns {value:,.2f} against {value_all:,.2f} for treating all of them"
        )
        checks.append(
            Check(
                "holdout: targeting beats random (doubly robust AUUC)",
                float(np.mean(curves["auuc_pseudo"] > 0)) >= 0.5,
                f"AUUC above random on held-out rows in {np.mean(curves['auuc_pseudo'] > 0):.0%} of posterior "
                f"rankings (mean {np.mean(curves['auuc_pseudo']):.4g})",
                {"auuc_mean": float(np.mean(curves["auuc_pseudo"])), "policy_value": value, "treat_all": value_all},
            )
        )
    else:
        gamma = tg.pseudo_outcomes(data.y, data.z, pi, fit.m0, fit.m1)
        curves = _curves(tau_flat, data.y, data.z, gamma, tg.ranking(tau_flat.mean(0)), opt.forest.seed)
        curve_rows = f"all {n} rows, in-sample (optimistic: set a holdout for an honest check)"
        deciles = _deciles(tau_flat, tg.ranking(tau_flat.mean(0)), data.y, data.z, gamma)
    estimates["auuc"] = from_draws(curves["auuc_model"], method="monte-carlo", hdi_prob=opt.hdi_prob)

    # --- checks: predictive, placebo
    checks.append(_ppc_check(data.y, fit))
    if opt.placebo:
        checks.append(_placebo(data, pi, opt, estimates["ate"]))

    # --- money and decision
    profit_t = policy.profit["targeted"]
    n_treat = int(policy.treat.sum())
    cost_t = float(np.sum(np.broadcast_to(cost_all, (n,))[policy.treat]))
    revenue_t = tau_flat[:, policy.treat].sum(1)
    roi = summarise_roi(revenue_t, Business(opt.margin, cost_t or None), opt.rule)
    for name, draws_ in policy.profit.items():
        if name != "treat none":
            estimates[f"profit_{name.split(' (')[0].replace(' ', '_')}"] = mcmc(draws_)
    gain_vs_all = profit_t - policy.profit["treat all"]
    estimates["profit_targeted_minus_treat_all"] = mcmc(gain_vs_all)
    best_share = policy.best_depth / n
    estimates["best_targeting_share"] = from_draws(best_share, method="mcmc", hdi_prob=opt.hdi_prob, signed=False)
    # threshold of caring: as set, or 1% of the policy's expected gross incremental profit (the stake)
    stake = abs(float(np.mean(revenue_t))) * opt.margin
    rule = opt.rule if opt.rule.threshold_of_caring > 0 else replace(opt.rule, threshold_of_caring=0.01 * stake)
    if n_treat == 0:
        decision = decide_from_draws(
            policy.profit["treat all"], rule, ship_label="treat everyone", reject_label="do not run the campaign"
        )
        decision.reason = "no customer has positive expected incremental profit; treating everyone: " + decision.reason
    else:
        decision = decide_from_draws(
            profit_t,
            rule,
            ship_label=f"target {n_treat:,} of {n:,} customers ({n_treat / n:.0%})",
            reject_label="do not run the campaign",
            units=" (profit)",
        )
    decision.criteria |= {
        "customers_targeted": n_treat,
        "prob_targeted_beats_treat_all": float(np.mean(gain_vs_all > 0)),
        "expected_profit_targeted": float(profit_t.mean()),
        "expected_profit_treat_all": float(policy.profit["treat all"].mean()),
    }

    policies = pd.DataFrame(
        [
            {
                "policy": name,
                "customers": int(mask_n),
                **_est_cols(from_draws(d, method="monte-carlo", hdi_prob=opt.hdi_prob)),
                "P(beats treat-all)": float(np.mean(d > policy.profit["treat all"])),
            }
            for name, d, mask_n in (
                (k, v, _treated_count(k, policy, alternatives, n)) for k, v in policy.profit.items()
            )
        ]
    )
    tables = {
        "policies (posterior incremental profit)": policies,
        "summary tree leaves (posterior subgroup effects)": tree.leaves,
        f"uplift by decile ({curve_rows})": deciles,
        "split stability across posterior draws": tree.stability.reset_index(),
        "variable importance (summary tree)": tree.importance.rename("importance")
        .rename_axis("variable")
        .reset_index(),
    }
    if opt.segments:
        tables["CATE by segment"] = _segment_table(data, tau_flat, opt.segments, opt.hdi_prob)
    tables["top customers by expected profit"] = cate.sort_values("expected_profit", ascending=False).head(20)
    figures |= {
        "Targeting: campaign profit by policy": partial(plots.policy_profit, policy.profit),
        "Profit by targeting depth (posterior band) and the best depth": partial(
            plots.profit_depth, profit, policy, opt.hdi_prob
        ),
        f"Uplift: cumulative gain ({curve_rows})": partial(plots.gain_curves, curves),
        "Qini curve (band: ranking uncertainty)": partial(plots.qini_curve, curves),
        "Cumulative elasticity: average effect among the top k": partial(plots.elasticity_curve, curves),
        "CATE posterior per customer (sorted)": partial(plots.cate_caterpillar, tau_flat),
        "Summary tree: posterior effect per leaf": partial(plots.leaf_effects, tree.leaves),
    }
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
        posterior["cate"] = xr.Dataset({"tau": (("chain", "draw", "unit"), tau)}, coords={"unit": np.arange(n)})
    source = "known share (randomised)" if opt.randomised else "logistic regression"
    source = "given column" if given is not None else source
    notes.insert(
        0,
        f"model: {fit.method}; propensity: {source}; profit = {opt.margin} x incremental {data.outcome} "
        "- cost per treated customer",
    )
    ate = estimates["ate"]
    return Result(
        kind="bcf",
        title=title or f"Causal forest: who should get '{treatment}' ({outcome})",
        decision=decision,
        estimates=estimates,
        diagnostics=diagnostics,
        checks=checks,
        roi=roi,
        posterior=posterior,
        sampled=sampled,
        tables=tables,
        figures=figures,
        notes=notes,
        row_outputs={"cate": cate},
        extra={
            "lift_test": {
                "effect_per_unit": ate.mean,
                "sd": ate.sd,
                "units": n,
                "outcome": data.outcome,
                "incremental_total": ate.mean * n,
                "incremental_total_sd": ate.sd * n,
            },
        },
        inputs=(inputs or {}) | {"rows": int(n), "treated": int(data.z.sum()), "covariates": list(covariates)},
        timings={"fit_seconds": fit.seconds, "total_seconds": time.perf_counter() - t0},
    )


def _treated_count(name, policy, alternatives, n) -> int:
    if name == "targeted":
        return int(policy.treat.sum())
    if name == "treat all":
        return n
    if name == "treat none":
        return 0
    return int(np.sum(alternatives[name]))


def _costs(frame: pd.DataFrame, opt: BCFOptions) -> np.ndarray:
    if opt.cost_column is None:
        return np.full(len(frame), opt.cost_per_treated)
    if opt.cost_column not in frame.columns:
        raise DataError(f"cost column '{opt.cost_column}' is not in the data")
    cost = pd.to_numeric(frame[opt.cost_column], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(cost)) or (cost < 0).any():
        raise DataError(f"cost column '{opt.cost_column}' must be finite and >= 0")
    return cost


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


def _ppc_check(y: np.ndarray, fit: CateFit) -> Check:
    observed = observed_stats(y)
    pvals = ppc_pvalues(observed, {k: v.ravel() for k, v in fit.ppc.items()})
    flagged = [k for k in ppc_flagged(pvals) if not (k == "share_zero" and observed[k] == 0)]
    detail = (
        "observed mean, sd, quantiles and share of zeros are typical of the model's replications"
        if not flagged
        else "extreme under the model: "
        + ", ".join(f"{k} (p = {pvals[k]:.3f})" for k in flagged)
        + "; for zero-inflated spend use likelihood = 'hurdle' (backend pymc)"
    )
    return Check("posterior predictive check", not flagged, detail, {"p_values": pvals})


def _placebo(data: BCFData, pi: np.ndarray, opt: BCFOptions, ate) -> Check:
    """Refit with the treatment permuted: the effects must vanish (a check of the pipeline, not of the data)."""
    rng = np.random.default_rng(opt.forest.seed + 1)
    fake = replace(data, z=rng.permutation(data.z))
    forest = replace(opt.forest, draws=max(50, opt.forest.draws // 2), chains=min(opt.forest.chains, 2))
    fit = _fit(fake, pi if opt.randomised else np.full(data.n, data.z.mean()), opt, forest)
    ate_p = from_draws(fit.tau.mean(-1), method="mcmc", hdi_prob=opt.hdi_prob)
    p = float(ate_p.prob_positive)
    ok = 0.005 <= p <= 0.995  # a two-sided 1% check: fails about 1 run in 100 when nothing is wrong
    return Check(
        "placebo (permuted treatment)",
        ok,
        f"placebo ATE {ate_p.mean:.4g}, {ate_p.hdi_prob:.0%} HDI {ate_p.interval_text()}, P(> 0) = {p:.3f}: "
        f"{'consistent with' if ok else 'NOT consistent with'} no effect (real ATE {ate.mean:.4g})",
        {"placebo_ate": ate_p.mean, "hdi_low": ate_p.hdi_low, "hdi_high": ate_p.hdi_high},
    )
