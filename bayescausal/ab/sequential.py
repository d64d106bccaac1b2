"""Sequential decision checks: at every look, P(best) and expected loss, then ship / keep / continue.

The stopping rule is the expected-loss rule (Stucchio 2015): stop when choosing an arm costs, in
expectation, less than the threshold of caring, guarded by a minimum sample and minimum days and by
a sample-ratio-mismatch (SRM) check. `operating_characteristics` simulates what the rule does
(wrong decisions, realised loss, duration) against a fixed-horizon test before anyone trusts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayescausal.ab.ranking import rank_arms
from bayescausal.ab.srm import SRM_ALPHA, srm_pvalue
from bayescausal.errors import SpecError
from bayescausal.roi import Decision, DecisionRule, decide

# Exit codes of `bayescausal ab check`, for automation to branch on.
EXIT_DECIDED = 0  # ship <arm> or keep control
EXIT_CONTINUE = 4  # no decision yet: keep the test running
EXIT_SRM = 5  # sample ratio mismatch: stop and investigate the assignment, do not trust the numbers


@dataclass(frozen=True)
class StoppingRule:
    """Threshold of caring on the expected loss (absolute rate units, or relative to the control's rate)
    plus the guards that keep early looks from deciding on noise."""

    threshold: float = 0.01
    relative: bool = True
    min_prob_positive: float = 0.9
    min_visitors_per_arm: int = 1000
    min_days: int = 7
    srm_alpha: float = SRM_ALPHA
    allocation: tuple[float, ...] | None = None  # planned traffic split; None = equal

    def __post_init__(self):
        if self.threshold <= 0:
            raise SpecError(f"threshold of caring must be > 0, got {self.threshold}")
        if self.allocation is not None and (min(self.allocation) <= 0 or abs(sum(self.allocation) - 1) > 1e-6):
            raise SpecError(f"allocation must be positive shares summing to 1, got {self.allocation}")

    def epsilon(self, control_mean: float) -> float:
        return self.threshold * control_mean if self.relative else self.threshold


@dataclass
class SequentialCheck:
    arms: list[str]
    trajectory: pd.DataFrame  # one row per day: P(best), expected loss and decision per look
    decision: Decision
    srm_pvalue: float
    exit_code: int
    epsilon: float


def _look(prob_best, loss, prob_vs_control, arms, eps, guard: str | None, min_prob_positive: float) -> Decision:
    """One look: the best non-control candidate against keeping the control."""
    candidate = 1 + int(np.argmin(loss[1:]))
    rule = DecisionRule(min_prob_positive=min_prob_positive, threshold_of_caring=eps)
    decision = decide(
        prob_positive=float(prob_vs_control[candidate]),
        loss_ship=float(loss[candidate]),
        loss_reject=float(loss[0]),
        rule=rule,
        can_continue=True,
        ship_label=f"ship {arms[candidate]}",
        reject_label="keep control",
    )
    decision.criteria["prob_best"] = {a: float(p) for a, p in zip(arms, prob_best, strict=True)}
    if guard and decision.action != "continue":
        return Decision(
            "continue", f"{guard} (the rule would say '{decision.action}')", decision.criteria, verdict="continue"
        )
    return decision


def check(daily: pd.DataFrame, rule: StoppingRule, *, prior_alpha=1.0, prior_beta=1.0, control=None) -> SequentialCheck:
    """Replay every look in `daily` (cumulative counts per arm per day) and decide at the last one."""
    wide_n = daily.pivot_table(index="day", columns="arm", values="visitors", aggfunc="sum")
    wide_y = daily.pivot_table(index="day", columns="arm", values="conversions", aggfunc="sum")
    arms = list(dict.fromkeys(daily["arm"]))
    if control is not None:
        if control not in arms:
            raise SpecError(f"control arm '{control}' not in the data (arms: {arms})")
        arms = [control] + [a for a in arms if a != control]
    n = wide_n[arms].ffill().fillna(0).to_numpy(float)
    y = wide_y[arms].ffill().fillna(0).to_numpy(float)
    a, b = prior_alpha + y, prior_beta + n - y
    prob_best, loss = rank_arms(a, b)
    # P(arm > control) pairwise, batched over days: a two-arm ranking per (day, arm)
    pair_a = np.stack([np.broadcast_to(a[:, :1], a.shape), a], axis=-1)
    pair_b = np.stack([np.broadcast_to(b[:, :1], b.shape), b], axis=-1)
    vs_control = rank_arms(pair_a, pair_b)[0][..., 1]
    rows = []
    decision = None
    for d, day in enumerate(wide_n.index):
        eps = rule.epsilon(a[d, 0] / (a[d, 0] + b[d, 0]))
        guard = None
        if d + 1 < rule.min_days:
            guard = f"only {d + 1} day(s) of data; the rule needs {rule.min_days}"
        elif n[d].min() < rule.min_visitors_per_arm:
            guard = f"smallest arm has {int(n[d].min())} visitors; the rule needs {rule.min_visitors_per_arm}"
        decision = _look(prob_best[d], loss[d], vs_control[d], arms, eps, guard, rule.min_prob_positive)
        row = {"day": day, "look": d + 1, "threshold": eps, "decision": decision.action}
        for k, arm in enumerate(arms):
            row |= {
                f"visitors[{arm}]": n[d, k],
                f"prob_best[{arm}]": prob_best[d, k],
                f"expected_loss[{arm}]": loss[d, k],
            }
        rows.append(row)
    p_srm = srm_pvalue(n[-1], rule.allocation)
    exit_code = EXIT_CONTINUE if decision.action == "continue" else EXIT_DECIDED
    if p_srm < rule.srm_alpha:
        decision = Decision(
            "halt: sample ratio mismatch",
            f"the observed split {dict(zip(arms, n[-1].astype(int), strict=True))} is implausible under the planned "
            f"allocation (chi-square p = {p_srm:.2g} < {rule.srm_alpha}); fix the assignment before trusting "
            "any result",
            decision.criteria,
        )
        exit_code = EXIT_SRM
    eps_last = rows[-1]["threshold"]
    return SequentialCheck(arms, pd.DataFrame(rows), decision, p_srm, exit_code, eps_last)


# --------------------------------------------------------------------------- simulating the rule


@dataclass
class Forward:
    stop_day: np.ndarray  # (sims,) days from the start state until the rule decided (horizon + 1: undecided)
    shipped: np.ndarray  # (sims,) the rule shipped the treatment
    decided: np.ndarray  # (sims,) the rule decided within the horizon
    final_conversions: np.ndarray  # (sims, 2) cumulative conversions at the end of the horizon
    final_visitors: np.ndarray  # (2,) cumulative visitors per arm at the end of the horizon
    final_prob_best: np.ndarray  # (sims,) P(treatment best) at the last look
    mean_threshold: float  # the threshold of caring, averaged over every look of every simulated test

    def days_for(self, probability: float) -> int | None:
        """The fewest extra days after which at least `probability` of the simulated tests have decided."""
        days = np.sort(self.stop_day)
        k = int(np.ceil(probability * len(days))) - 1
        return int(days[k]) if self.decided.mean() >= probability else None


def forward(
    rates: np.ndarray,
    *,
    daily_visitors: int,
    horizon: int,
    rule: StoppingRule,
    rng: np.random.Generator,
    conversions: np.ndarray | float = 0.0,
    visitors: np.ndarray | float = 0.0,
    days_so_far: int = 0,
    prior: tuple[float, float] = (1.0, 1.0),
) -> Forward:
    """Simulate `horizon` more days of a two-arm test (control first) for each row of `rates` (sims, 2), from
    the counts seen so far (a test that has not started, by default)."""
    sims = len(rates)
    new = rng.binomial(daily_visitors, rates[:, None, :], size=(sims, horizon, 2)).cumsum(axis=1)
    days = np.arange(1, horizon + 1)
    n = visitors + daily_visitors * days[None, :, None] * np.ones((sims, 1, 2))
    conv = conversions + new
    a, b = prior[0] + conv, prior[1] + n - conv
    prob_best, loss = rank_arms(a, b)
    eps = rule.epsilon(a[..., 0] / (a[..., 0] + b[..., 0]))
    eligible = (days_so_far + days[None, :] >= rule.min_days) & (n[..., 0] >= rule.min_visitors_per_arm)
    ship = eligible & (prob_best[..., 1] >= rule.min_prob_positive) & (loss[..., 1] <= eps)
    stop = ship | (eligible & (loss[..., 0] <= eps))
    decided = stop.any(axis=1)
    first = np.where(decided, stop.argmax(axis=1), horizon)
    shipped = np.where(decided, ship[np.arange(sims), np.minimum(first, horizon - 1)], False)
    final = (conv[:, -1], n[0, -1], prob_best[:, -1, 1], float(np.mean(eps)))
    return Forward(first + 1, shipped, decided, *final)


def operating_characteristics(
    *,
    baseline: float,
    lifts: list[float],
    daily_visitors: int,
    max_days: int,
    rule: StoppingRule,
    n_sims: int = 1000,
    seed: int = 0,
    fixed_alpha: float = 0.05,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
) -> pd.DataFrame:
    """Monte-Carlo the sequential rule and a fixed-horizon z-test over `n_sims` two-arm experiments
    for each true relative lift; returns one row per lift (and per procedure)."""
    if not 0 < baseline < 1:
        raise SpecError(f"baseline rate must be in (0, 1), got {baseline}")
    rng = np.random.default_rng(seed)
    rows = []
    for lift in lifts:
        rates = np.array([baseline, baseline * (1 + lift)])
        if not 0 < rates[1] < 1:
            raise SpecError(f"lift {lift} takes the treatment rate out of (0, 1)")
        run = forward(
            np.tile(rates, (n_sims, 1)),
            daily_visitors=daily_visitors,
            horizon=max_days,
            rule=rule,
            rng=rng,
            prior=(prior_alpha, prior_beta),
        )
        # undecided at the horizon: ship when the treatment is probably better
        shipped = np.where(run.decided, run.shipped, run.final_prob_best >= rule.min_prob_positive)
        duration = np.minimum(run.stop_day, max_days).astype(float)
        # fixed horizon: two-sided two-proportion z-test at the last day, ship when significantly better
        conv, n = run.final_conversions, run.final_visitors
        p_hat = conv / n
        pooled = conv.sum(axis=1) / n.sum()
        se = np.sqrt(pooled * (1 - pooled) * (2 / n[0]))
        z = np.divide(p_hat[:, 1] - p_hat[:, 0], se, out=np.zeros(n_sims), where=se > 0)
        fixed_ship = z > stats.norm.ppf(1 - fixed_alpha / 2)
        regret = abs(rates[1] - rates[0])
        for name, ships, days in (("sequential", shipped, duration), ("fixed-horizon", fixed_ship, None)):
            wrong = ships if lift <= 0 else ~ships
            realised = np.where(ships == (rates[1] > rates[0]), 0.0, regret) if lift != 0 else np.zeros(n_sims)
            mean_days = float(np.mean(days)) if days is not None else float(max_days)
            rows.append(
                {
                    "true_lift": lift,
                    "procedure": name,
                    "ship_rate": float(np.mean(ships)),
                    "wrong_decision_rate": float(np.mean(wrong)),
                    "mean_realised_loss": float(realised.mean()),
                    "mcse_realised_loss": float(realised.std() / np.sqrt(n_sims)),
                    "mean_threshold": run.mean_threshold if rule.relative else rule.threshold,
                    "mean_days": mean_days,
                    "days_saved": max_days - mean_days,
                    "stopped_early_rate": float(run.decided.mean()) if days is not None else 0.0,
                    "n_sims": n_sims,
                }
            )
    return pd.DataFrame(rows)
