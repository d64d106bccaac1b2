"""Uplift curves and the profit policy against hand-computed values and brute force."""

import itertools

import numpy as np
import pytest

from bayescausal.bcf import targeting as tg
from bayescausal.errors import DataError

# six customers ranked 0..5 by score; y observed, z treatment
Y = np.array([10.0, 0.0, 6.0, 2.0, 4.0, 1.0])
Z = np.array([1, 0, 1, 0, 1, 0])
ORDER = np.arange(6)
DEPTHS = np.arange(7)


def test_qini_matches_hand_computation():
    # k=2: Y_T=10, Y_C=0, N_T=1, N_C=1 -> 10; k=4: Y_T=16, Y_C=2, N_T=2, N_C=2 -> 14; k=6: 20 - 3*3/3 = 17
    q = tg.qini(Y, Z, ORDER, DEPTHS)
    assert q[[0, 1, 2, 4, 6]].tolist() == [0.0, 0.0, 10.0, 14.0, 17.0]
    # k=3: Y_T=16, N_T=2, Y_C=0, N_C=1 -> 16
    assert q[3] == pytest.approx(16.0)


def test_observed_gain_matches_hand_computation():
    g = tg.observed_gain(Y, Z, ORDER, DEPTHS)
    # k=2: (10 - 0) * 2 = 20; k=6: (20/3 - 3/3) * 6 = 34
    assert g[2] == pytest.approx(20.0)
    assert g[6] == pytest.approx(34.0)
    assert g[1] == 0.0  # no control yet


def test_ipw_gain_and_auuc():
    gamma = tg.pseudo_outcomes(Y, Z, np.full(6, 0.5))
    assert gamma.tolist() == [20.0, 0.0, 12.0, -4.0, 8.0, -2.0]
    gain = tg.pseudo_gain(gamma, ORDER, DEPTHS)
    assert gain.tolist() == [0.0, 20.0, 20.0, 32.0, 28.0, 36.0, 34.0]
    # trapezoid over fractions 0..1 in steps of 1/6, minus the random line's area 34/2
    area = (0 / 2 + 20 + 20 + 32 + 28 + 36 + 34 / 2) / 6
    assert tg.auuc(gain, DEPTHS) == pytest.approx(area - 17.0)


def test_doubly_robust_reduces_to_model_difference_when_residuals_vanish():
    m0, m1 = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    y = np.array([3.0, 2.0])  # treated unit sits on m1, control on m0
    assert tg.pseudo_outcomes(y, np.array([1, 0]), np.array([0.3, 0.6]), m0, m1).tolist() == [2.0, 3.0]


def test_model_gain_sums_draws_in_rank_order():
    tau = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    order = tg.ranking(tau.mean(0))  # all means 2: stable order 0,1,2
    assert order.tolist() == [0, 1, 2]
    assert tg.model_gain(tau, order, np.arange(4)).tolist() == [[0, 1, 3, 6], [0, 3, 5, 6]]
    assert np.isnan(tg.elasticity(np.array([0.0, 2.0]), np.array([0, 2]))[0])


def test_policy_matches_brute_force_search():
    rng = np.random.default_rng(3)
    tau = rng.normal([5, -1, 2, 0.4, 8, -3, 1], 3, size=(400, 7))
    profit = tg.profit_draws(tau, 0.5, 1.0)
    policy = tg.optimal_policy(profit)
    best = max(itertools.product([False, True], repeat=7), key=lambda mask: profit[:, np.array(mask)].sum(1).mean())
    assert policy.treat.tolist() == list(best)
    assert policy.profit["targeted"].mean() >= policy.profit["treat all"].mean()
    assert policy.profit["treat none"].tolist() == [0.0] * 400


def test_risk_adjusted_policy_is_a_subset_and_best_depth_is_per_draw():
    rng = np.random.default_rng(4)
    profit = rng.normal([2.0, 0.05, -1.0, 0.5], 1.0, size=(1000, 4))
    loose, strict = tg.optimal_policy(profit), tg.optimal_policy(profit, min_prob=0.9)
    assert set(np.flatnonzero(strict.treat)) <= set(np.flatnonzero(loose.treat))
    assert strict.treat.tolist() == [True, False, False, False]
    cum = np.concatenate([np.zeros((1000, 1)), np.cumsum(profit[:, loose.order], 1)], 1)
    assert (loose.best_depth == cum.argmax(1)).all()
    with pytest.raises(DataError):
        tg.optimal_policy(profit, min_prob=1.0)


def test_policy_value_on_pseudo_outcomes():
    gamma = np.array([10.0, -5.0, 4.0])
    assert tg.policy_value(gamma, np.array([True, False, True]), 0.5, 1.0) == pytest.approx(0.5 * 14 - 2)


def test_targeting_must_probably_beat_the_simple_policy():
    """Customer 1's profit is a coin flip around a small loss: leaving them out is the expected-profit optimum
    but beats treat-all in only about 55% of draws, so with confidence 0.9 the simple policy (treat all,
    profitable in expectation) is kept; a customer with a sure loss is left out whatever the confidence."""
    rng = np.random.default_rng(5)
    unsure = np.column_stack([rng.normal(3.0, 0.5, 4000), rng.normal(-0.1, 1.0, 4000)])
    policy = tg.optimal_policy(unsure, confidence=0.9)
    assert policy.fallback == "treat all" and policy.treat.tolist() == [True, True]
    assert 0.5 < policy.prob_beats_uniform < 0.62
    assert "CATE rule (not confidently better)" in policy.profit
    sure = np.column_stack([rng.normal(3.0, 0.5, 4000), rng.normal(-2.0, 0.5, 4000)])
    policy = tg.optimal_policy(sure, confidence=0.9)
    assert policy.fallback is None and policy.treat.tolist() == [True, False] and policy.prob_beats_uniform == 1.0
    losing = -np.abs(unsure)  # nobody profitable: the simple policy is treat none and the CATE rule agrees
    assert tg.optimal_policy(losing, confidence=0.9).treat.tolist() == [False, False]


@pytest.mark.slow
def test_a_campaign_nobody_should_receive_is_do_not_act_in_profit_terms(tmp_path, capsys):
    """Every customer's profit is negative: the targeted policy treats nobody, its profit draws are all zero, and
    that constant must not enter the convergence gate (R-hat of a constant is NaN). Verdict: do not act, exit 0."""
    import json

    from bayescausal.cli import main
    from bayescausal.simulate.bcf import discount

    d = discount(400, seed=2).drop(columns=["tau", "mu", "propensity"])
    data = tmp_path / "d.csv"
    d.to_csv(data, index=False)
    argv = ["bcf", "fit", "--data", str(data), "--outcome", "sales", "--treatment", "discount"]
    argv += ["--covariates", "age,state,predicted_sales", "--json", "--no-report", "--draws", "500", "--chains", "4"]
    argv += ["--randomised", "--no-placebo", "--margin", "0.3", "--cost-per-treated", "1000"]
    code = main(argv)
    summary = json.loads(capsys.readouterr().out)
    assert summary["decision"]["verdict"] == "do not act", summary["decision"]
    assert code == 0
    assert "profit" in summary["decision"]["reason"] and "P(effect > 0)" not in summary["decision"]["reason"]
    assert not any("profit_targeted" in p for p in summary["diagnostics"]["problems"])
    # the gate names what it reads; the informative mixing check never suggests what the run already did
    assert "gating: ate, att, profit_targeted" in summary["diagnostics"]["method"]
    side = next(c for c in summary["checks"] if c["name"].startswith("mixing of subgroup effects"))
    assert not side["gating"] and "(not gating)" in side["name"]
    assert "--chains 8, this run used 4" in side["next_step"]
