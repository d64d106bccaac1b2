import numpy as np
import pytest

from bayescausal.errors import SpecError
from bayescausal.estimates import from_draws, hdi_from_draws
from bayescausal.roi import Business, DecisionRule, decide, expected_losses, roi_draws, summarise_roi


def test_roi_primitives_against_hand_computed_draws():
    revenue = np.array([0.0, 1000.0, 2000.0, 3000.0])
    business = Business(margin_rate=0.5, cost=500.0)
    # (revenue x 0.5 - 500) / 500 = [-1, 0, 1, 2]
    np.testing.assert_allclose(roi_draws(revenue, business), [-1.0, 0.0, 1.0, 2.0])
    s = summarise_roi(revenue, business, DecisionRule(hurdle_roi=0.05))
    assert s.prob_roi_above_hurdle == pytest.approx(0.5)  # ROI > 5% in draws 3 and 4
    np.testing.assert_allclose(s.draws["incremental_profit"], [-500.0, 0.0, 500.0, 1000.0])
    assert s.incremental_profit.mean == pytest.approx(250.0)
    assert s.roi.prob_positive == pytest.approx(0.5)
    # expected loss of acting / not acting on value draws
    assert expected_losses(np.array([-2.0, 1.0, 3.0, -1.0])) == (pytest.approx(0.75), pytest.approx(1.0))
    with pytest.raises(SpecError, match="needs a cost"):
        roi_draws(revenue, Business())


def test_estimate_from_draws_uses_a_real_hdi():
    x = np.random.default_rng(0).exponential(1.0, 100_000)
    e = from_draws(x)
    # for a skewed posterior the HDI starts near 0 and is shorter than the equal-tailed interval
    assert e.hdi_low < 0.01 and e.hdi_high - e.hdi_low < e.eti_high - e.eti_low
    assert e.mcse_mean == pytest.approx(1 / np.sqrt(100_000), rel=0.05)
    assert hdi_from_draws(np.arange(100.0), 0.9) == (0.0, 90.0)


@pytest.mark.parametrize(
    ("kwargs", "action"),
    [
        ({"prob_positive": 0.97, "loss_ship": 0.001, "loss_reject": 0.5}, "ship"),
        ({"prob_positive": 0.85, "loss_ship": 0.001, "loss_reject": 0.5}, "reject"),
        ({"prob_positive": 0.97, "loss_ship": 0.001, "loss_reject": 0.5, "prob_roi": 0.3}, "reject"),
        ({"prob_positive": 0.97, "loss_ship": 0.2, "loss_reject": 0.5}, "reject"),
        ({"prob_positive": 0.97, "loss_ship": 0.2, "loss_reject": 0.5, "can_continue": True}, "continue"),
        ({"prob_positive": 0.2, "loss_ship": 0.2, "loss_reject": 0.001, "can_continue": True}, "reject"),
    ],
)
def test_decision_rule(kwargs, action):
    d = decide(rule=DecisionRule(threshold_of_caring=0.01), **kwargs)
    assert d.action == action
    assert d.reason and d.criteria["prob_positive"] == kwargs["prob_positive"]


def test_rule_validation():
    with pytest.raises(SpecError):
        DecisionRule(min_prob_positive=1.5)
    with pytest.raises(SpecError):
        Business(margin_rate=0.0)
