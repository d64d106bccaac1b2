"""`bcf score`: this campaign's customers scored with the forests an earlier fit saved in its report.

No refit: the saved models predict each new row's CATE draw by draw (bcf/saved.py), and the same profit rule
as the fit chooses whom to treat (and, with several offers, which offer). The scores inherit the fit's
verdict: a fit that was inconclusive (failed diagnostics or a gating check) makes the scores inconclusive too,
with the fit's own next step.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np

from bayescausal.bcf import plots
from bayescausal.bcf.offers import choose_offers, offer_table
from bayescausal.bcf.scoring import fallback_note, new_rows, score_table
from bayescausal.diagnostics import Diagnostics
from bayescausal.estimates import from_draws
from bayescausal.result import Check, Parts, Result
from bayescausal.roi import decide_from_draws

OVERRIDES = ("margin_rate", "cost_per_treated", "cost_column", "min_prob_profit", "id")


def score_saved(inputs, opt) -> Result:
    """`inputs`: commands.ToScore (customers, saved model, the fit's summary); `opt`: ScoreOptions."""
    model = inputs.model
    business = model.business | {k: getattr(opt, k) for k in OVERRIDES if getattr(opt, k) is not None}
    rows = new_rows(inputs.frame, model.encoding, model.propensity, business)
    effects = model.effects(rows.X, rows.pi).astype(float)  # (chain, draw, row, offer)
    chains, n = effects.shape[0], effects.shape[2]
    parts = Parts(notes=list(rows.notes))
    margin, hdi = business["margin_rate"], business["hdi_prob"]
    if len(model.offers) == 1:
        tau = effects[..., 0].reshape(-1, n)
        table, policy = score_table(
            tau,
            rows.ids,
            margin=margin,
            cost=rows.cost,
            min_prob=business["min_prob_profit"],
            hdi_prob=hdi,
            confidence=opt.rule.min_prob_positive,
        )
        if note := fallback_note(policy, "scored customers"):
            parts.notes.append(note)
        treat = table["treat"].to_numpy(bool)
        profit = (margin * tau - rows.cost)[:, treat].sum(1)
        parts.estimates["ate"] = from_draws(tau.mean(1).reshape(chains, -1), method="mcmc", hdi_prob=hdi)
    else:
        tau = effects.reshape(-1, n, len(model.offers))
        policy = choose_offers(tau, margin, rows.cost, list(model.offers), opt.rule.min_prob_positive)
        table = offer_table(tau, rows.ids, policy, list(model.offers), hdi)
        profit = policy.profit["targeted"]
        for k, offer in enumerate(model.offers):
            parts.estimates[f"ate_{offer}"] = from_draws(
                tau[:, :, k].mean(1).reshape(chains, -1), method="mcmc", hdi_prob=hdi
            )
    parts.estimates["profit_targeted"] = from_draws(profit.reshape(chains, -1), method="mcmc", hdi_prob=hdi)
    parts.row_outputs["scores"] = table
    parts.checks.append(_fit_check(inputs.fit_summary, inputs.folder))
    parts.inputs |= {"fitted_report": str(inputs.folder), "customers": n, "saved_draws": int(tau.shape[0])}
    parts.notes.insert(
        0,
        f"scored {n:,} customers with the {chains} x {effects.shape[1]} saved posterior draws of {inputs.folder} "
        f"({inputs.fit_summary.get('title', 'a bcf fit')}); profit = {margin} x incremental outcome - cost",
    )
    parts.tables["top customers by expected profit"] = table.sort_values("expected_profit", ascending=False).head(20)
    parts.figure(
        "CATE posterior per new customer (sorted)", partial(plots.cate_caterpillar, tau.reshape(tau.shape[0], -1))
    )
    decision = _decide(profit.reshape(chains, -1), int(table["treat"].sum()), n, opt)
    fit_diag = inputs.fit_summary.get("diagnostics", {})
    diagnostics = Diagnostics(
        method=f"saved forests of {inputs.folder}: {fit_diag.get('method', 'stochtree BCF')}",
        passed=bool(fit_diag.get("passed", False)),
        max_rhat=fit_diag.get("max_rhat"),
        min_ess_bulk=fit_diag.get("min_ess_bulk"),
        problems=list(fit_diag.get("problems", [])),
    )
    title = f"Scores for {n:,} new customers from '{inputs.fit_summary.get('title', inputs.folder)}'"
    return parts.result("bcf", title, decision, diagnostics)


def _decide(profit, treated: int, n: int, opt):
    stake = abs(float(profit.mean()))
    rule = opt.rule if opt.rule.threshold_of_caring > 0 else replace(opt.rule, threshold_of_caring=0.01 * stake)
    decision = decide_from_draws(
        profit,
        rule,
        ship_label=f"treat {treated:,} of {n:,} new customers ({treated / max(n, 1):.0%})",
        reject_label="do not run the campaign",
        units=" (profit)",
    )
    decision.criteria |= {"customers_targeted": treated, "expected_profit_targeted": float(np.mean(profit))}
    return decision


def _fit_check(summary: dict, folder) -> Check:
    """Gating: scores are only as good as the fit behind them."""
    decision = summary.get("decision", {})
    verdict = decision.get("verdict", "unknown")
    ok = verdict != "inconclusive" and bool(summary.get("diagnostics", {}).get("passed", False))
    blocking = "; ".join(b.get("name", str(b)) if isinstance(b, dict) else str(b) for b in decision.get("blocking", []))
    return Check(
        "the fit behind these scores",
        ok,
        f"the fit in {folder} was '{verdict}'" + (f" (blocked by: {blocking})" if blocking else ""),
        {"fit_verdict": verdict},
        gating=True,
        next_step="settle the fit first (its report's next step), refit, and score again",
    )
