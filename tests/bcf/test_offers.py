"""Several offers against known truth: a three-arm randomised design where each offer is best for some."""

import numpy as np
import pandas as pd
import pytest

from bayescausal.bcf.analysis import analyze
from bayescausal.bcf.backends import ForestSettings
from bayescausal.bcf.offers import choose_offers
from bayescausal.bcf.options import BCFOptions
from bayescausal.errors import DataError, SpecError

MARGIN, COST = 1.0, 0.5


def three_arms(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Control, offer A (works for high x1) and offer B (for low x1); the true CATEs per offer."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(size=(2, n))
    tau = np.column_stack([3 * x1, 3 * (1 - x1) - 0.5])
    arm = rng.integers(0, 3, n)
    effect = np.where(arm == 0, 0.0, tau[np.arange(n), np.maximum(arm - 1, 0)])
    y = 2 + np.sin(3 * x2) + effect + rng.normal(0, 1, n)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "offer": np.array(["none", "A", "B"])[arm], "y": y})
    return frame, tau


def options(**kw) -> BCFOptions:
    base = dict(
        outcome="y",
        treatment="offer",
        covariates=("x1", "x2"),
        control_value="none",
        randomised=True,
        margin_rate=MARGIN,
        cost_per_treated=COST,
        forest=ForestSettings(draws=150, burnin=50, chains=2, seed=4),
    )
    return BCFOptions(**(base | kw))


def test_choose_offers_closed_form():
    """Two customers, two offers, draws where the answer is known: argmax of expected profit, or none."""
    tau = np.array([[[1.0, 2.0], [0.1, 0.2]], [[3.0, 0.0], [0.3, 0.0]]])  # (draw, customer, offer)
    policy = choose_offers(tau, 1.0, np.array([0.5, 0.5]), ["A", "B"])
    assert policy.choice.tolist() == [1, 0]  # customer 0: A (1.5 vs 0.5 expected), customer 1: none
    assert np.allclose(policy.prob_best[0], [0, 0.5, 0.5]) and np.allclose(policy.prob_best[1], [1, 0, 0])
    assert np.allclose(policy.profit["targeted"], [0.5, 2.5])
    assert np.allclose(policy.profit["B to all"], [1.5 - 0.3, -0.5 - 0.5])
    # the per-customer choice beats the best simple policy ('A to all': 0.1, 2.3) in both draws
    sure = choose_offers(tau, 1.0, np.array([0.5, 0.5]), ["A", "B"], confidence=1.0)
    assert sure.fallback is None and sure.prob_beats_simple == 1.0
    # customer 1 is a coin flip between A and no offer: choosing per customer is not surely better than A to all
    flip = np.concatenate([tau, tau], axis=0)
    flip[:, 1, 0] = [0.6, 0.4, 0.6, 0.4]  # A's profit for customer 1: +0.1 or -0.1
    unsure = choose_offers(flip, 1.0, np.array([0.5, 0.5]), ["A", "B"], confidence=0.9)
    assert unsure.fallback == "A to all" and unsure.choice.tolist() == [1, 1]


@pytest.mark.slow
def test_three_arms_chosen_offer_right_where_it_is_clear():
    frame, tau = three_arms(3000, seed=5)
    result = analyze(frame, options())
    table = result.row_outputs["cate"]
    profit = np.column_stack([np.zeros(len(tau)), MARGIN * tau - COST])
    truth = np.array(["none", "A", "B"])[profit.argmax(1)]
    top2 = np.sort(profit, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 0.5
    right = float(np.mean(table["best_offer"].to_numpy()[clear] == truth[clear]))
    assert right >= 0.8, right
    for offer, k in (("A", 0), ("B", 1)):
        ate = result.estimates[f"ate_{offer}"]
        assert ate.hdi_low < tau[:, k].mean() < ate.hdi_high
    assert {"prob_best_A", "prob_best_B", "prob_best_none"} <= set(table.columns)
    assert result.decision.criteria["prob_targeted_beats_best_single_offer"] > 0.9
    new, _ = three_arms(200, seed=6)
    scored = analyze(frame, options(forest=ForestSettings(draws=60, burnin=20, chains=2, seed=4)), new=new)
    assert len(scored.row_outputs["scores"]) == 200 and set(scored.row_outputs["scores"].best_offer) <= {
        "A",
        "B",
        "none",
    }


def test_offer_errors_name_the_fix():
    frame, _ = three_arms(300, seed=1)
    with pytest.raises(DataError, match="control value 'nothing'"):
        analyze(frame, options(control_value="nothing"))
    with pytest.raises(DataError, match="fewer than 10 rows"):
        analyze(pd.concat([frame[frame.offer != "B"], frame[frame.offer == "B"].head(3)]), options())
    with pytest.raises(SpecError, match="one per offer"):
        analyze(frame.assign(p=0.3), options(propensity_column="p", randomised=False))
