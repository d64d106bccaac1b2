"""Several offers: which offer, or none, for whom.

A treatment column with a control level and K >= 2 offer levels (two e-mails, three discount depths) is fitted
as one stochtree BCF with a K-column treatment (bcf/forests.py), so every offer's CATE against control comes
per customer and draw by draw, and each offer borrows the prognostic forest learnt from every arm.

The decision per customer is the offer with the highest posterior expected profit, margin x tau_k - cost, or
none when no offer's expected profit is positive: profit is additive over customers, so this maximises the
campaign's expected profit over all (K + 1)^n assignments. P(offer is best) is the share of draws in which
that offer earns the most of all arms, no offer (profit 0) included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal import diagnostics as diag
from bayescausal.bcf import plots
from bayescausal.bcf import targeting as tg
from bayescausal.bcf.backends import CateFit, fit_stochtree
from bayescausal.bcf.checks import ppc_check
from bayescausal.bcf.data import BCFData, Propensity, prepare
from bayescausal.bcf.options import BCFOptions
from bayescausal.bcf.outcomes import outcome_model
from bayescausal.bcf.saved import FILE, saved_model
from bayescausal.bcf.scoring import Encoding, business_of, hdi_columns, new_rows
from bayescausal.errors import DataError, SpecError
from bayescausal.estimates import from_draws
from bayescausal.result import Check, LiftTest, Parts, Result
from bayescausal.roi import Business, decide_from_draws, summarise_roi

MIN_PER_ARM = 10


def offer_levels(frame: pd.DataFrame, opt: BCFOptions) -> list[str]:
    """The treatment's levels other than control, in sorted order (the offers, arm codes 1..K)."""
    if opt.treatment not in frame.columns:
        raise DataError(f"treatment column '{opt.treatment}' is not in the data")
    arms = frame[opt.treatment]
    if arms.isna().any():
        raise DataError(f"treatment '{opt.treatment}' has {int(arms.isna().sum())} missing value(s): drop those rows")
    levels = sorted(arms.astype(str).str.strip().unique())
    control = str(opt.control_value).strip()
    if control not in levels:
        raise DataError(f"control value {control!r} does not occur in '{opt.treatment}' (values: {levels[:10]})")
    offers = [v for v in levels if v != control]
    if not offers:
        raise DataError(f"'{opt.treatment}' has only the control level {control!r}: there is no offer to evaluate")
    return offers


def arm_codes(values: pd.Series, control, offers: list[str]) -> np.ndarray:
    text = values.astype(str).str.strip()
    codes = np.zeros(len(text), dtype=int)
    for k, offer in enumerate(offers, start=1):
        codes[(text == offer).to_numpy()] = k
    return codes


@dataclass
class OfferData:
    data: BCFData  # z holds arm codes: 0 control, k for offers[k - 1]
    offers: list[str]
    pi: np.ndarray  # (n, K) P(arm k | x)
    cost: np.ndarray  # (n,) cost of treating the customer with any offer
    propensity: Propensity

    @property
    def k(self) -> int:
        return len(self.offers)


def prepare_offers(frame: pd.DataFrame, opt: BCFOptions, costs: np.ndarray) -> OfferData:
    """Validate and encode the rows, the arm of each, and P(arm | x) for every offer."""
    offers = offer_levels(frame, opt)
    codes = arm_codes(frame[opt.treatment], opt.control_value, offers)
    counts = np.bincount(codes, minlength=len(offers) + 1)
    if short := [lab for lab, c in zip([str(opt.control_value), *offers], counts, strict=True) if c < MIN_PER_ARM]:
        raise DataError(
            f"arm(s) {short} of '{opt.treatment}' have fewer than {MIN_PER_ARM} rows; BCF needs at least "
            f"{MIN_PER_ARM} per arm: merge small offers or drop them"
        )
    binary = frame.assign(**{opt.treatment: (codes > 0).astype(int)})
    data = prepare(
        binary, outcome=opt.outcome, treatment=opt.treatment, covariates=list(opt.covariates), id_column=opt.id
    )
    data = replace(data, z=codes)
    propensity = arm_propensity(data.X, codes, opt)
    return OfferData(data, offers, propensity.predict(data.X), costs, propensity)


def arm_propensity(X: np.ndarray, codes: np.ndarray, opt: BCFOptions) -> Propensity:
    """P(arm k | x) for k = 1..K: the known shares on randomised data, else a multinomial logistic regression."""
    if opt.propensity_column is not None:
        raise SpecError(
            "a propensity column gives one probability, several offers need one per offer: drop "
            "propensity_column (they are then estimated) or set randomised = true for a randomised test"
        )
    return Propensity.fit(X, codes, randomised=opt.randomised)


# --------------------------------------------------------------------------- the decision


@dataclass
class OfferPolicy:
    """Per customer: the chosen arm (0 none, k offer k) and, per offer, expected profit and P(best)."""

    choice: np.ndarray  # (n,) arm code
    expected_profit: np.ndarray  # (n, K)
    prob_best: np.ndarray  # (n, K + 1): column 0 is "no offer"
    profit: dict[str, np.ndarray]  # policy name -> (draws,) campaign incremental profit
    prob_beats_simple: float = 1.0  # P(per-customer choice earns more than the best simple policy)
    fallback: str | None = None  # the simple policy kept when targeting was not confidently better


def choose_offers(
    tau: np.ndarray, margin: float, cost: np.ndarray, offers: list[str], confidence: float = 0.0
) -> OfferPolicy:
    """`tau` (draws, n, K): the expected-profit-maximising arm per customer, P(each arm best), and the
    campaign profit draws of that policy, of each offer sent to everyone, and of no campaign. As with one
    offer (targeting.optimal_policy), targeting must beat the best simple policy (one offer for all, or
    none) with probability `confidence`, else the simple policy is kept (`fallback`)."""
    profit = margin * tau - np.asarray(cost, float)[None, :, None]  # (draws, n, K)
    expected = profit.mean(0)
    choice = np.where(expected.max(1) > 0, expected.argmax(1) + 1, 0)
    with_none = np.concatenate([np.zeros(profit.shape[:2] + (1,)), profit], axis=2)
    winners = with_none.argmax(2)  # (draws, n)
    prob_best = np.stack([(winners == a).mean(0) for a in range(len(offers) + 1)], axis=1)
    rows = np.arange(tau.shape[1])
    totals = with_none.sum(1)  # (draws, arm): each arm sent to everyone
    simple = int(totals.mean(0).argmax())
    chosen = with_none[:, rows, choice].sum(1)
    beats = float(np.mean(chosen > totals[:, simple])) if (choice != simple).any() else 1.0
    fallback = None
    if beats < confidence:
        fallback = "treat none" if simple == 0 else f"{offers[simple - 1]} to all"
        choice = np.full_like(choice, simple)
        chosen = totals[:, simple]
    policies = {"targeted": chosen} | {f"{o} to all": totals[:, k + 1] for k, o in enumerate(offers)}
    policies["treat none"] = totals[:, 0]
    return OfferPolicy(choice, expected, prob_best, policies, beats, fallback)


def offer_table(tau: np.ndarray, ids, policy: OfferPolicy, offers: list[str], hdi_prob: float) -> pd.DataFrame:
    """One row per customer: the chosen offer and its CATE, HDI, expected profit and P(best); then, per
    offer, its CATE mean, expected profit and P(best)."""
    n = tau.shape[1]
    rows = np.arange(n)
    k = np.maximum(policy.choice - 1, 0)  # the chosen offer, or (for "none") the first, for the CATE columns
    best = np.where(policy.choice > 0, k, policy.expected_profit.argmax(1))
    chosen = tau[:, rows, best]
    low, high = hdi_columns(chosen, hdi_prob)
    table = pd.DataFrame(
        {
            "id": ids,
            "best_offer": np.where(policy.choice > 0, np.asarray(offers, dtype=object)[best], "none"),
            "treat": (policy.choice > 0).astype(int),
            "cate_mean": chosen.mean(0),
            "cate_hdi_low": low,
            "cate_hdi_high": high,
            "expected_profit": policy.expected_profit[rows, best],
            "prob_profit": 1 - policy.prob_best[:, 0],  # P(some offer earns more than no offer)
            "prob_best": policy.prob_best[rows, policy.choice],
        }
    )
    for j, offer in enumerate(offers):
        table[f"cate_{offer}_mean"] = tau[:, :, j].mean(0)
        table[f"expected_profit_{offer}"] = policy.expected_profit[:, j]
        table[f"prob_best_{offer}"] = policy.prob_best[:, j + 1]
    table["prob_best_none"] = policy.prob_best[:, 0]
    return table


# --------------------------------------------------------------------------- the analysis


def analyze(frame: pd.DataFrame, opt: BCFOptions, costs: np.ndarray, new: pd.DataFrame | None = None) -> Result:
    """Fit every offer against control, choose per customer, and assemble the Result (see the module doc)."""
    if opt.holdout or opt.trim is not None or opt.heuristic or opt.backend != "stochtree":
        raise SpecError(
            "several offers are fitted by the stochtree backend without holdout, trim or heuristic so far: drop "
            "those options, or compare one offer with control (treated_value and control_value)"
        )
    parts = Parts()
    od = prepare_offers(frame, opt, costs)
    data = od.data
    encoding = Encoding.of(data, opt.covariates)
    scored = new_rows(new, encoding, od.propensity, business_of(opt)) if new is not None else None
    kind = outcome_model(data.y, data.z, opt.likelihood)
    fit = fit_stochtree(
        data.X, data.z, data.y, od.pi, opt.forest, kind=kind, offers=od.k, saved_draws=opt.saved_draws,
        X_new=None if scored is None else scored.X, pi_new=None if scored is None else scored.pi,
    )  # fmt: skip
    if fit.forests:
        parts.artifacts[FILE] = saved_model(fit, tuple(od.offers), encoding, od.propensity, opt).to_bytes()
    parts.timings["fit_s"] = fit.seconds
    chains = fit.tau.shape[0]
    tau = fit.tau.reshape(-1, data.n, od.k).astype(float)  # (sample, n, K)
    policy = choose_offers(tau, opt.margin_rate, od.cost, od.offers, opt.rule.min_prob_positive)
    if policy.fallback:
        parts.notes.append(_fallback_note(policy))
    for j, offer in enumerate(od.offers):
        parts.estimates[f"ate_{offer}"] = _mcmc(tau[:, :, j].mean(1), chains, opt)
    diagnostics, sampled = _diagnose(fit, tau, policy, od, opt)
    parts.checks += [ppc_check(data.y, fit), _overlap(od.pi), _placebo(od, opt)]
    if scored is not None:
        new_tau = fit.new["tau"].reshape(-1, len(scored.ids), od.k).astype(float)
        new_policy = choose_offers(new_tau, opt.margin_rate, scored.cost, od.offers, opt.rule.min_prob_positive)
        parts.row_outputs["scores"] = offer_table(new_tau, scored.ids, new_policy, od.offers, opt.hdi_prob)
        parts.extra["scored"] = {"customers": len(scored.ids), "to_treat": int((new_policy.choice > 0).sum())}
        parts.notes.extend(scored.notes)
    roi, decision = _money(od, tau, chains, policy, opt, parts)
    _tables_and_figures(od, tau, policy, opt, parts)
    parts.notes.insert(
        0,
        f"model: {fit.method}, {od.k} offers ({', '.join(od.offers)}) against control '{opt.control_value}' in "
        f"one forest with a {od.k}-column treatment; profit = {opt.margin_rate} x incremental {data.outcome} - "
        "cost per treated customer (the same for every offer)",
    )
    parts.inputs |= {"arms": dict(zip(["control", *od.offers], np.bincount(data.z).tolist(), strict=True))}
    parts.inputs["covariates"] = list(opt.covariates)
    best = max(od.offers, key=lambda o: parts.estimates[f"ate_{o}"].mean)
    ate = parts.estimates[f"ate_{best}"]
    lift = LiftTest(ate.mean, ate.sd, data.n, "customer", ate.mean * data.n, ate.sd * data.n, label=data.outcome)
    title = f"Causal forest: which '{opt.treatment}' offer for whom ({opt.outcome})"
    posterior = _posterior(sampled, fit, policy, od.offers)
    return parts.result(
        "bcf", title, decision, diagnostics, roi=roi, posterior=posterior, sampled=sampled, lift_test=lift
    )


def _fallback_note(policy: OfferPolicy) -> str:
    return (
        f"choosing an offer per customer beats '{policy.fallback}' with posterior probability only "
        f"{policy.prob_beats_simple:.2f}: the recommendation is {policy.fallback}"
    )


def _mcmc(values: np.ndarray, chains: int, opt: BCFOptions):
    return from_draws(np.asarray(values).reshape(chains, -1), method="mcmc", hdi_prob=opt.hdi_prob)


def _diagnose(fit: CateFit, tau: np.ndarray, policy: OfferPolicy, od: OfferData, opt: BCFOptions):
    """Each offer's ATE and the policy's profit gate, across chains."""
    chains, draws = fit.tau.shape[:2]
    gated = {f"ate_{o}": tau[:, :, j].mean(1) for j, o in enumerate(od.offers)}
    gated["profit_targeted"] = policy.profit["targeted"]
    scalars = xr.Dataset({k: (("chain", "draw"), v.reshape(chains, draws)) for k, v in gated.items()})
    sampled = xr.DataTree.from_dict({"posterior": scalars})
    return diag.diagnose(sampled, list(gated), opt.thresholds, method=fit.method), sampled


def _overlap(pi: np.ndarray) -> Check:
    """Gating, as for one offer: a customer almost never given some arm has no comparable counterparts in it."""
    low = float(np.mean((pi < 0.05).any(1) | (1 - pi.sum(1) < 0.05)))
    return Check(
        "overlap (propensity of every arm)",
        low < 0.01,
        f"{low:.1%} of rows have some arm's probability below 0.05",
        {"share_extreme": low},
        gating=True,
        next_step="randomise the next campaign across the offers, or compare the offers only where every arm is given",
    )


def _placebo(od: OfferData, opt: BCFOptions) -> Check:
    """Refit with the arms permuted: no offer may show an effect (two-sided 1%, Bonferroni over the offers)."""
    rng = np.random.default_rng(opt.forest.seed + 1)
    fake = rng.permutation(od.data.z)
    forest = replace(opt.forest, draws=max(50, opt.forest.draws // 2), chains=min(opt.forest.chains, 2))
    data = od.data
    pi = np.tile(np.bincount(fake, minlength=od.k + 1)[1:] / data.n, (data.n, 1))
    kind = outcome_model(data.y, fake, opt.likelihood)
    fit = fit_stochtree(data.X, fake, data.y, pi, forest, kind=kind, offers=od.k)
    probs = {o: float((fit.tau[..., j].mean(-1) > 0).mean()) for j, o in enumerate(od.offers)}
    edge = 0.005 / od.k
    ok = all(edge <= p <= 1 - edge for p in probs.values())
    return Check(
        "placebo (permuted arms)",
        ok,
        "placebo P(offer ATE > 0): "
        + ", ".join(f"{o} {p:.3f}" for o, p in probs.items())
        + (": consistent with no effect" if ok else ": NOT consistent with no effect"),
        {"prob_positive": probs},
        gating=True,
        next_step="refit with another seed and more chains; if the placebo still finds an effect, the forest is "
        "fitting noise: use fewer effect trees before targeting",
    )


def _money(od: OfferData, tau: np.ndarray, chains: int, policy: OfferPolicy, opt: BCFOptions, parts: Parts):
    """The targeted policy's profit posterior against each offer sent to all, the ROI, and the decision."""
    chosen = policy.choice > 0
    for name, draws in policy.profit.items():
        if name != "treat none":
            parts.estimates[f"profit_{name.replace(' ', '_')}"] = _mcmc(draws, chains, opt)
    singles = np.stack([v for k, v in policy.profit.items() if k.endswith(" to all")])
    best_single = singles[singles.mean(1).argmax()]
    gain = policy.profit["targeted"] - best_single
    parts.estimates["profit_targeted_minus_best_single_offer"] = _mcmc(gain, chains, opt)
    rows = np.arange(od.data.n)
    revenue = np.where(chosen, tau[:, rows, np.maximum(policy.choice - 1, 0)], 0.0).sum(1)
    roi = summarise_roi(revenue, Business(opt.margin_rate, float(od.cost[chosen].sum()) or None), opt.rule)
    stake = abs(float(revenue.mean())) * opt.margin_rate
    rule = opt.rule if opt.rule.threshold_of_caring > 0 else replace(opt.rule, threshold_of_caring=0.01 * stake)
    counts = {o: int((policy.choice == j + 1).sum()) for j, o in enumerate(od.offers)}
    label = ", ".join(f"'{o}' to {c:,}" for o, c in counts.items() if c)
    decision = decide_from_draws(
        policy.profit["targeted"].reshape(chains, -1),
        rule,
        ship_label=f"send {label} of {od.data.n:,} customers" if label else "do not run the campaign",
        reject_label="do not run the campaign",
        units=" (profit)",
    )
    decision.criteria |= {
        "customers_targeted": int(chosen.sum()),
        "customers_by_offer": counts,
        "prob_targeted_beats_best_single_offer": float(np.mean(gain > 0)),
        "prob_choice_beats_simple_policy": policy.prob_beats_simple,
        "simple_policy_kept": policy.fallback,
        "expected_profit_targeted": float(policy.profit["targeted"].mean()),
    }
    return roi, decision


def _tables_and_figures(od: OfferData, tau: np.ndarray, policy: OfferPolicy, opt: BCFOptions, parts: Parts) -> None:
    data = od.data
    table = offer_table(tau, data.ids, policy, od.offers, opt.hdi_prob)
    parts.row_outputs["cate"] = table
    parts.tables["offers (average effect against control)"] = pd.DataFrame(
        [
            {
                "offer": o,
                "customers in arm": int((data.z == j + 1).sum()),
                "ATE": parts.estimates[f"ate_{o}"].mean,
                "HDI": parts.estimates[f"ate_{o}"].interval_text(),
                "chosen for": int((policy.choice == j + 1).sum()),
                "expected profit if sent to all": float(policy.profit[f"{o} to all"].mean()),
            }
            for j, o in enumerate(od.offers)
        ]
    )
    targeted = policy.profit["targeted"]
    parts.tables["policies (posterior incremental profit)"] = pd.DataFrame(
        [
            {"policy": name, "expected profit": float(d.mean()), "P(beats targeted)": float(np.mean(d > targeted))}
            for name, d in policy.profit.items()
        ]
    )
    parts.tables["top customers by expected profit"] = table.sort_values("expected_profit", ascending=False).head(20)
    pi_control = 1 - od.pi.sum(1)
    curves = {o: _offer_gain(tau[:, :, j], data, od.pi[:, j], pi_control, j + 1) for j, o in enumerate(od.offers)}
    parts.figure("Targeting: campaign profit by policy", partial(plots.policy_profit, policy.profit), "decision")
    parts.figure("Gain per offer: treat the top k by that offer's CATE (in-sample)", partial(plots.offer_gains, curves))
    parts.figure("Which offer is best: P(best) per customer", partial(plots.prob_best, policy.prob_best, od.offers))


def _offer_gain(tau_k: np.ndarray, data: BCFData, pi_k: np.ndarray, pi_control: np.ndarray, arm: int) -> dict:
    """Model gain (posterior band) and the IPW gain on the rows in arm k or control, along offer k's ranking."""
    pair = (data.z == arm) | (data.z == 0)
    order = tg.ranking(tau_k[:, pair].mean(0))
    depths = tg.depth_grid(int(pair.sum()))
    p = pi_k[pair] / (pi_k[pair] + pi_control[pair])  # P(arm k | x, arm k or control)
    gamma = tg.pseudo_outcomes(data.y[pair], (data.z[pair] == arm).astype(float), p)
    return {
        "depths": depths,
        "model_gain": tg.model_gain(tau_k[:, pair], order, depths),
        "pseudo_gain": tg.pseudo_gain(gamma, order, depths),
    }


def _posterior(sampled: xr.DataTree, fit: CateFit, policy: OfferPolicy, offers: list[str]) -> xr.DataTree:
    posterior = xr.DataTree.from_dict(
        {
            "posterior": sampled["posterior"].to_dataset(),
            "targeting": xr.Dataset(
                {"profit": (("policy", "sample"), np.stack(list(policy.profit.values())))},
                coords={"policy": list(policy.profit)},
            ),
        }
    )
    if fit.tau.size <= 5_000_000:
        posterior["cate"] = xr.Dataset(
            {"tau": (("chain", "draw", "unit", "offer"), fit.tau)},
            coords={"unit": np.arange(fit.tau.shape[2]), "offer": offers},
        )
    return posterior
