"""Sequential checks and Thompson allocation: decisions, guards, SRM, operating characteristics, regret."""

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.sequential import (
    EXIT_CONTINUE,
    EXIT_DECIDED,
    EXIT_SRM,
    StoppingRule,
    check,
    operating_characteristics,
)
from bayescausal.ab.srm import srm_pvalue
from bayescausal.ab.thompson import allocate, simulate_regret
from bayescausal.errors import SpecError


def daily(rates, visitors_per_day, days, seed=0, split=(0.5, 0.5)):
    rng = np.random.default_rng(seed)
    rows = []
    cum = np.zeros((2, 2))
    for d in range(1, days + 1):
        n = rng.multinomial(2 * visitors_per_day, split)
        cum[0] += n
        cum[1] += rng.binomial(n, rates)
        rows += [
            {"day": d, "arm": arm, "visitors": int(cum[0, k]), "conversions": int(cum[1, k])}
            for k, arm in enumerate(["A", "B"])
        ]
    return pd.DataFrame(rows)


def test_clear_winner_is_shipped_after_the_guards():
    seq = check(daily([0.05, 0.07], 3000, 10), StoppingRule(min_days=3))
    assert seq.decision.action == "ship B" and seq.exit_code == EXIT_DECIDED
    assert (seq.trajectory["decision"].iloc[:2] == "continue").all()  # min_days guard
    assert "prob_best[B]" in seq.trajectory and "expected_loss[A]" in seq.trajectory


def test_clear_loser_keeps_control_and_ambiguous_continues():
    assert check(daily([0.07, 0.05], 3000, 10), StoppingRule(min_days=3)).decision.action == "keep control"
    ambiguous = check(daily([0.05, 0.0505], 200, 8), StoppingRule(min_days=3, threshold=0.001))
    assert ambiguous.decision.action == "continue" and ambiguous.exit_code == EXIT_CONTINUE


def test_sample_ratio_mismatch_halts():
    seq = check(daily([0.05, 0.07], 3000, 10, split=(0.53, 0.47)), StoppingRule(min_days=3))
    assert seq.exit_code == EXIT_SRM and seq.decision.action.startswith("halt")
    assert srm_pvalue(np.array([5000, 5000]), None) == pytest.approx(1.0)
    assert srm_pvalue(np.array([6000, 4000]), (0.6, 0.4)) == pytest.approx(1.0)
    with pytest.raises(SpecError):
        StoppingRule(allocation=(0.7, 0.7))


def test_operating_characteristics_under_aa_and_small_effects():
    """Under A/A and small harmful effects the rule rarely ships, and the realised loss of its decisions
    stays at or below the threshold of caring it was given."""
    rule = StoppingRule(threshold=0.02, min_days=5)
    oc = operating_characteristics(
        baseline=0.05, lifts=[0.0, -0.03, 0.03, 0.2], daily_visitors=1000, max_days=21, rule=rule, n_sims=200, seed=1
    )
    seq = oc[oc.procedure == "sequential"].set_index("true_lift")
    assert seq.loc[0.0, "ship_rate"] < 0.25  # A/A: shipping needs P(B > A) >= 0.9 and a small expected loss
    for lift in (-0.03, 0.03):
        assert seq.loc[lift, "mean_realised_loss"] <= 1.5 * seq.loc[lift, "mean_threshold"]
    assert seq.loc[0.2, "ship_rate"] > 0.9 and seq.loc[0.2, "days_saved"] > 5  # real wins stop early
    again = operating_characteristics(
        baseline=0.05, lifts=[0.0, -0.03, 0.03, 0.2], daily_visitors=1000, max_days=21, rule=rule, n_sims=200, seed=1
    )
    pd.testing.assert_frame_equal(oc, again)


def test_thompson_weights():
    a, b = np.array([50.0, 60, 10]), np.array([950.0, 940, 190])
    w = allocate(a, b, floor=0.05)
    assert w.sum() == pytest.approx(1.0) and w.min() >= 0.05 and np.argmax(w) == 1
    two = allocate(a[:2], b[:2], floor=0.0)
    low = allocate(a[:2], b[:2], floor=0.0, lower_is_better=True)
    assert two == pytest.approx(low[::-1])  # lower is better mirrors the weights
    with pytest.raises(SpecError):
        allocate(a, b, floor=0.5)


def test_thompson_has_less_regret_than_equal_split():
    curves = simulate_regret([0.04, 0.05, 0.06], periods=30, visitors_per_period=1000, seed=2)
    final = curves.groupby("policy")["cumulative_regret"].last()
    assert final["thompson"] < 0.6 * final["equal split"]
