"""Sensitivity to parallel-trends violations: the breakdown value of M (relative magnitudes)."""

from __future__ import annotations

import json

import numpy as np

from bayescausal.cli import main
from bayescausal.did.sensitivity import relative_magnitudes
from tests.test_verdict import _trend_panel


def _summary(capsys, argv):
    main(argv)
    return json.loads(capsys.readouterr().out)


def test_a_drift_the_leads_already_show_explains_the_effect_at_m_about_one(tmp_path, capsys):
    """Under relative magnitudes a trend that simply continues is M ~ 1 by construction: the effect is fully
    explained by a post-treatment violation no larger than the pre-treatment one."""
    s = _summary(capsys, _trend_panel(tmp_path / "t.csv", drift=0.4) + ["--treated", "D", "--json", "--no-report"])
    assert s["decision"]["criteria"]["rule_verdict"] == "act"  # the drift alone looks like an effect
    assert s["sensitivity"]["decision_tested"] == "act" and s["sensitivity"]["breakdown_m"] <= 1.5


def test_a_clean_design_holds_well_past_zero(tmp_path, capsys):
    s = _summary(
        capsys, _trend_panel(tmp_path / "c.csv", drift=0.0, effect=2.0) + ["--treated", "D", "--json", "--no-report"]
    )
    assert s["decision"]["verdict"] == "act"
    breakdown = s["sensitivity"]["breakdown_m"]
    assert breakdown is None or breakdown >= 1.5  # flat leads: a violation must be far larger than any seen


def test_bounds_widen_linearly_in_m_and_the_breakdown_is_where_the_rule_flips():
    rng = np.random.default_rng(0)
    effect = rng.normal(1.0, 0.1, 20_000)
    leads = np.abs(rng.normal(0.0, 0.05, (20_000, 4))) + 0.5  # worst lead about 0.6
    sens = relative_magnitudes(effect, leads, lambda d: np.mean(d > 0) >= 0.9)
    assert sens.positive
    worst = leads.max(axis=1)
    m = sens.breakdown
    assert np.mean(effect - (m - 0.05) * worst > 0) >= 0.9 > np.mean(effect - m * worst > 0)
    np.testing.assert_allclose(sens.lower[:, 1] + sens.upper[:, 1], 2 * np.median(effect), atol=0.01)
