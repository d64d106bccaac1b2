"""The shared Result for the A/B sequential check, operating characteristics and allocation."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from bayescausal import diagnostics as diag
from bayescausal.ab import plots
from bayescausal.ab.beta import BetaPosterior, LiftDistribution
from bayescausal.ab.planning import more_data_needed, plan_test
from bayescausal.ab.sequential import StoppingRule, check, operating_characteristics
from bayescausal.ab.srm import planned_split
from bayescausal.ab.thompson import allocate, simulate_regret
from bayescausal.estimates import from_distribution
from bayescausal.result import Check, Figure, Result
from bayescausal.roi import Decision, NextStep


def check_result(
    daily: pd.DataFrame,
    rule: StoppingRule,
    *,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
    control: str | None = None,
) -> Result:
    """Replay the looks in cumulative daily data and decide at the latest one."""
    seq = check(daily, rule, prior_alpha=prior_alpha, prior_beta=prior_beta, control=control)
    last = daily[daily["day"] == daily["day"].max()].groupby("arm")[["visitors", "conversions"]].sum()
    last = last.loc[seq.arms]
    posts = [
        BetaPosterior(prior_alpha + r.conversions, prior_beta + r.visitors - r.conversions) for r in last.itertuples()
    ]
    estimates = {f"rate_{a}": from_distribution(p, signed=False) for a, p in zip(seq.arms, posts, strict=True)}
    for k, arm in enumerate(seq.arms[1:], start=1):
        estimates[f"lift_{arm}"] = from_distribution(LiftDistribution(posts[0], posts[k]))
    final = seq.trajectory.iloc[-1]
    arms_json = {
        a: {
            "prob_best": float(final[f"prob_best[{a}]"]),
            "expected_loss": float(final[f"expected_loss[{a}]"]),
            "posterior_mean": posts[k].mean(),
            "visitors": int(last.loc[a, "visitors"]),
        }
        for k, a in enumerate(seq.arms)
    }
    if seq.decision.verdict == "continue" and len(seq.arms) == 2:
        seq.decision.next_step = _more_data(daily, seq, last, rule, prior_alpha, prior_beta)
    srm = Check(
        "sample ratio mismatch",
        seq.srm_pvalue >= rule.srm_alpha,
        f"chi-square p = {seq.srm_pvalue:.3g} against the planned split {planned_split(seq.arms, rule.allocation)}",
        {"p_value": seq.srm_pvalue},
        gating=True,
        next_step="stop the test, find why the split differs from the plan (randomiser, redirects, bot filtering, "
        "logging), fix it and restart; looks taken under a broken assignment cannot be trusted",
    )
    return Result(
        kind="ab-check",
        title=f"Sequential A/B check: look {len(seq.trajectory)}",
        decision=seq.decision,
        estimates=estimates,
        diagnostics=diag.exact(),
        checks=[srm],
        tables={"looks": seq.trajectory.set_index("look")},
        figures=[Figure("P(best) and expected loss by look", partial(plots.trajectory, seq.trajectory, seq.arms))],
        notes=[
            *daily.attrs.get("notes", []),
            f"threshold of caring at the last look: {seq.epsilon:.3g} (rate units)"
            + (f" = {rule.threshold:g} x the control's rate" if rule.relative else ""),
            f"guards: at least {rule.min_days} days and {rule.min_visitors_per_arm} visitors per arm; "
            f"ship needs P(arm beats control) >= {rule.min_prob_positive}",
            "exit codes: 0 = decided (ship / keep control), 4 = continue, 5 = sample ratio mismatch",
        ],
        extra={
            "arms": arms_json,
            "exit_code": seq.exit_code,
            "looks": len(seq.trajectory),
            "look_label": _day_label(daily["day"].max()),
        },
    )


def _more_data(daily, seq, last, rule, prior_alpha: float, prior_beta: float) -> NextStep:
    """How many more days (and users) until the rule decides, simulated from the current posterior."""
    days = daily["day"].nunique()
    per_day = int(max(last["visitors"].min() / max(days, 1), 1))
    need = more_data_needed(
        prior_alpha + last["conversions"].to_numpy(float),
        prior_beta + (last["visitors"] - last["conversions"]).to_numpy(float),
        last["visitors"].to_numpy(float),
        days_so_far=days,
        daily_visitors=per_day,
        rule=rule,
    )
    if need["more_days"] is None:
        text = (
            f"keep the test running: at about {per_day:,} visitors per arm per day the rule decides within "
            f"{need['horizon_days']} more days in fewer than {need['probability']:.0%} of the simulated futures; "
            "consider a larger threshold of caring"
        )
    else:
        text = (
            f"keep the test running: about {need['more_days']} more day(s) ({need['more_visitors_per_arm']:,} more "
            f"visitors per arm) give a decision with probability {need['probability']:.0%} (median "
            f"{need['median_more_days']:.0f} days), simulated from the current posterior"
        )
    return NextStep(text, need | {"daily_visitors_per_arm": per_day})


def _day_label(day) -> str:
    """The latest data day, as a look's name: a date for timestamps, else the day number."""
    if isinstance(day, pd.Timestamp | np.datetime64):
        return pd.Timestamp(day).strftime("%Y-%m-%d")
    return f"day-{day}"


def simulation_result(
    *,
    baseline: float,
    lifts: list[float],
    daily_visitors: int,
    max_days: int,
    rule: StoppingRule,
    n_sims: int,
    seed: int,
) -> Result:
    """Operating characteristics of the stopping rule vs a fixed-horizon test, as a Result."""
    oc = operating_characteristics(
        baseline=baseline,
        lifts=lifts,
        daily_visitors=daily_visitors,
        max_days=max_days,
        rule=rule,
        n_sims=n_sims,
        seed=seed,
    )
    seq = oc[oc["procedure"] == "sequential"].set_index("true_lift")
    fixed = oc[oc["procedure"] == "fixed-horizon"].set_index("true_lift")
    null = seq.loc[[x for x in seq.index if x <= 0]]
    summary = (
        f"sequential rule: mean realised loss <= {null['mean_realised_loss'].max():.2g} where the treatment is "
        f"no better; {seq['days_saved'].mean():.1f} days saved on average versus {max_days} days fixed"
    )
    checks = [_prior_average_check(seq)] + [_fixed_lift_check(lift, row, fixed) for lift, row in seq.iterrows()]
    return Result(
        kind="ab-simulate",
        title="Operating characteristics of the sequential rule",
        decision=Decision(
            "use the stopping rule" if checks[0].passed else "do not use the stopping rule as set",
            summary + f"; {checks[0].detail}",
            verdict="act" if checks[0].passed else "do not act",
        ),
        estimates={},
        diagnostics=diag.exact("Monte-Carlo simulation"),
        checks=checks,
        tables={"operating characteristics": oc},
        figures=[Figure("Ship rate and duration", partial(plots.operating_characteristics, oc))],
        notes=[
            f"{n_sims} simulated experiments per true lift; baseline {baseline}, {daily_visitors} visitors per "
            f"arm per day, up to {max_days} days, seed {seed}",
            "fixed horizon: two-sided two-proportion z-test at the last day, alpha 0.05",
        ],
        extra={"operating_characteristics": oc.to_dict("records")},
    )


MC_Z = 3.0  # simulation noise allowed: 3 Monte-Carlo standard errors of the mean realised loss


def _prior_average_check(seq: pd.DataFrame) -> Check:
    """What the rule promises: shipping only when the posterior expected loss is under the threshold keeps the
    realised loss under it *on average over the prior*. The simulated lifts, weighted equally, stand in for the
    prior; the test is against the threshold itself, allowing only the simulation's own noise."""
    mean = float(seq["mean_realised_loss"].mean())
    mcse = float(np.sqrt((seq["mcse_realised_loss"] ** 2).sum()) / len(seq))
    bound = float(seq["mean_threshold"].mean())
    ok = mean <= bound + MC_Z * mcse
    return Check(
        "realised loss averaged over the simulated lifts",
        ok,
        f"mean realised loss {mean:.3g} (Monte-Carlo s.e. {mcse:.2g}) against the threshold of caring {bound:.3g}, "
        f"averaged over the {len(seq)} true lifts weighted equally"
        + ("" if ok else f": above the threshold by more than {MC_Z:g} Monte-Carlo s.e."),
        {"mean_realised_loss": mean, "mcse": mcse, "threshold": bound, "tolerance_mcse": MC_Z},
        next_step="raise min_days or the visitors per arm before a decision, or lower the threshold of caring",
    )


def _fixed_lift_check(lift: float, row: pd.Series, fixed: pd.DataFrame) -> Check:
    """Informative: at one fixed true lift the realised loss may exceed the threshold (near zero lift, where the
    rule is least sure, it often does) without breaking the rule's promise, which is an average over lifts."""
    bound, mcse = row["mean_threshold"], row["mcse_realised_loss"]
    return Check(
        f"realised loss at true lift {lift:+g}",
        row["mean_realised_loss"] <= bound + MC_Z * mcse,
        f"mean realised loss {row['mean_realised_loss']:.3g} (Monte-Carlo s.e. {mcse:.2g}) vs threshold {bound:.3g}; "
        "at a fixed lift this informs, the promise is on average over lifts",
        {"ship_rate": row["ship_rate"], "fixed_ship_rate": fixed.loc[lift, "ship_rate"], "mcse": mcse},
    )


def plan_result(opt) -> Result:
    """`ab plan`: the rule simulated at no effect, the minimum effect and its harmful mirror image."""
    plan = plan_test(
        baseline=opt.baseline,
        min_effect=opt.min_effect,
        daily_visitors=opt.daily_visitors,
        max_days=opt.days,
        rule=opt.rule(),
        power=opt.power,
        sims=opt.sims,
        seed=opt.seed,
    )
    table = pd.DataFrame(plan.rows).set_index("true_lift")
    at_effect, harm = table.loc[opt.min_effect], table.loc[-opt.min_effect]
    if plan.days_needed is not None:
        decision = Decision(
            f"run the test for up to {plan.days_needed} days ({plan.visitors_needed:,} visitors per arm)",
            f"at the minimum effect (+{opt.min_effect:.0%}) the rule decides within {plan.days_needed} days in "
            f"{opt.power:.0%} of simulated tests (expected {at_effect['expected_days']:.1f} days); it ships a "
            f"{opt.min_effect:.0%} worse arm in {harm['P(ship)']:.1%} of them",
            {"days_needed": plan.days_needed, "visitors_needed_per_arm": plan.visitors_needed},
            verdict="act",
        )
    else:
        decision = Decision(
            "do not start the test as planned",
            f"at {opt.daily_visitors:,} visitors per arm per day the rule decides within {opt.days} days in only "
            f"{at_effect['P(decided by max days)']:.0%} of simulated tests at the minimum effect (< {opt.power:.0%})",
            {"P_decided": float(at_effect["P(decided by max days)"])},
            verdict="do not act",
            next_step=NextStep(
                "raise the daily traffic, allow more days, or accept a larger minimum effect or threshold of caring",
                {"max_days": opt.days, "daily_visitors": opt.daily_visitors},
            ),
        )
    checks = [
        Check(
            f"wrong ship when the treatment is {opt.min_effect:.0%} worse",
            harm["P(ship)"] <= 0.05,
            f"P(ship) = {harm['P(ship)']:.3f} (Monte-Carlo s.e. {harm['mcse']:.2g}); the expected-loss rule bounds "
            "the loss, not this rate, so read it beside the threshold of caring",
            {"P_ship": float(harm["P(ship)"])},
        )
    ]
    return Result(
        kind="ab-plan",
        title=f"Test plan: +{opt.min_effect:.0%} on a {opt.baseline:.2%} baseline",
        decision=decision,
        estimates={},
        diagnostics=diag.exact(f"Monte-Carlo simulation of the stopping rule, {opt.sims:,} tests per scenario"),
        checks=checks,
        tables={"plan": table.reset_index()},
        notes=[
            f"{opt.daily_visitors:,} visitors per arm per day; decisions need {opt.min_days} days and "
            f"{opt.min_visitors:,} visitors per arm; threshold of caring {opt.threshold:g} x the control's rate",
            "guardrails are not simulated: each adds a condition to shipping, so plan some margin above these days",
        ],
        extra={"plan": plan.rows, "days_needed": plan.days_needed, "visitors_needed_per_arm": plan.visitors_needed},
    )


def allocation_result(
    totals: pd.DataFrame,
    *,
    floor: float,
    lower_is_better: bool,
    prior_alpha: float,
    prior_beta: float,
    regret_periods: int = 0,
    seed: int = 0,
) -> Result:
    """Next-period Thompson weights (exact P(best) with a floor), optionally with a regret simulation."""
    n = totals["visitors"].to_numpy(float)
    y = totals["conversions"].to_numpy(float)
    a, b = prior_alpha + y, prior_beta + n - y
    weights = allocate(a, b, floor=floor, lower_is_better=lower_is_better)
    arms = list(totals.index)
    table = pd.DataFrame({"posterior_mean": a / (a + b), "next_share": weights}, index=arms).rename_axis("arm")
    figures, tables = [], {"allocation": table}
    if regret_periods:
        per_period = int(max(n.sum() / 10, 100))
        curves = simulate_regret(
            a / (a + b),
            periods=regret_periods,
            visitors_per_period=per_period,
            floor=floor,
            seed=seed,
            lower_is_better=lower_is_better,
        )
        tables["regret"] = curves.groupby("policy")["cumulative_regret"].last().to_frame()
        figures.append(Figure("Cumulative regret", partial(plots.regret, curves)))
    best = arms[int(np.argmax(weights))]
    return Result(
        kind="ab-allocate",
        title="Thompson-sampling allocation for the next period",
        decision=Decision(
            "allocate",
            f"send {weights.max():.1%} of next period's traffic to '{best}'; shares = "
            f"floor {floor} + (1 - K floor) x P(best), exact",
            verdict="act",
        ),
        estimates={},
        diagnostics=diag.exact(),
        tables=tables,
        figures=figures,
        extra={"allocation": dict(zip(arms, map(float, weights), strict=True))},
        notes=["lower is better" if lower_is_better else "higher is better"],
    )
