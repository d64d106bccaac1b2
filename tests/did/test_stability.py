"""Leave-one-period-out by window sums must equal rebuilding the panel without the period and refitting."""

import numpy as np
import pytest

from bayescausal.data.panel import Panel, require_design, require_exact
from bayescausal.did.model import cohorts, posterior_gaussian
from bayescausal.did.stability import PeriodDropper
from bayescausal.errors import DataError
from bayescausal.simulate.did import simulate_panel


def _rebuilt(panel: Panel, t: int, pre_periods):
    """The definition: the panel without period t, its cohorts from scratch (None when the design changes)."""
    keep = np.arange(panel.shape[1]) != t
    sub = Panel(panel.outcome[:, keep], panel.treated[:, keep], panel.units, panel.periods[keep])
    try:
        require_design(sub)
        require_exact(sub)
        groups = cohorts(sub, pre_periods=pre_periods)
    except DataError:
        return None
    return groups


@pytest.mark.parametrize("pre_periods", [None, 3])
@pytest.mark.parametrize("design", [((6, 9),), ((1, 3), (5, 5), (7, 9))])
def test_dropping_a_period_matches_rebuilding_the_panel(design, pre_periods):
    panel = simulate_panel(units=60, periods=12, cohorts=design, seed=3)
    groups = cohorts(panel, pre_periods=pre_periods)
    dropper = PeriodDropper(panel.outcome, groups, pre_periods)
    compared = skipped = 0
    for t in range(panel.shape[1]):
        expected, got = _rebuilt(panel, t, pre_periods), dropper.without(t)
        if expected is None or len(expected) != len(groups):
            assert got is None
            skipped += 1
            continue
        assert got is not None
        for a, b in zip(expected, got, strict=True):
            assert (a.start, a.end) == (b.start, b.end)
            np.testing.assert_allclose(b.z_treated, a.z_treated, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(b.z_control, a.z_control, rtol=1e-12, atol=1e-12)
        att = posterior_gaussian(got, draws=500, seed=1).att
        np.testing.assert_allclose(att, posterior_gaussian(expected, draws=500, seed=1).att, rtol=1e-10, atol=1e-10)
        compared += 1
    assert compared >= 8
    assert (skipped > 0) == (len(design) > 1)  # the staggered design has single-period windows to lose
