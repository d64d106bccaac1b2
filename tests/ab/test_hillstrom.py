"""The Hillstrom e-mail experiment, end to end as a user would run it (skipped where the file is absent)."""

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.analysis import ABOptions, analyze
from bayescausal.ab.data import aggregate_events, spread_over_days, validate_aggregated
from bayescausal.ab.results import check_result
from bayescausal.ab.sequential import StoppingRule
from bayescausal.sampling import SamplerSettings
from tests.conftest import shared_file

ARMS = ["No E-Mail", "Mens E-Mail", "Womens E-Mail"]


@pytest.fixture(scope="module")
def events():
    return pd.read_csv(shared_file("hillstrom", "hillstrom.csv"))


def test_per_arm_rates_match_the_readme(events):
    agg = aggregate_events(events, arm="segment", converted="conversion", revenue="spend").set_index("arm")
    visit = events.groupby("segment")["visit"].mean()
    conv = agg["conversions"] / agg["visitors"]
    rpu = agg["revenue"] / agg["visitors"]
    for arm, v, c, r in (
        ("Mens E-Mail", 0.1828, 0.01253, 1.42),
        ("Womens E-Mail", 0.1514, 0.00884, 1.08),
        ("No E-Mail", 0.1062, 0.00573, 0.65),
    ):
        assert visit[arm] == pytest.approx(v, abs=5e-5)
        assert conv[arm] == pytest.approx(c, abs=5e-6)
        assert rpu[arm] == pytest.approx(r, abs=0.005)
    assert agg.loc[ARMS, "purchasers"].tolist() == [122, 267, 189]


@pytest.mark.slow
def test_full_analysis_with_pooled_segments(events):
    agg = validate_aggregated(
        aggregate_events(events, arm="segment", converted="conversion", revenue="spend", segment="zip_code")
    )
    result = analyze(agg, ABOptions(control="No E-Mail", traffic=21_300, sampler=SamplerSettings(seed=2008)))
    assert result.diagnostics.passed, result.diagnostics.problems
    arms = result.extra["arms"]
    assert arms["Mens E-Mail"]["prob_best"] > 0.99  # conversion 1.25% vs 0.88% vs 0.57%
    assert result.estimates["lift_Mens E-Mail"].hdi_low > 0
    assert result.estimates["revenue_lift_Mens E-Mail"].prob_positive > 0.99
    assert result.decision.action == "ship Mens E-Mail"
    seg = result.tables["segments"]
    assert set(seg["segment"]) == {"Urban", "Surburban", "Rural"} and len(seg) == 6
    # pooled segment lifts sit between the raw segment lifts and the overall lift
    overall = result.estimates["lift_Mens E-Mail"].mean
    mens = seg[seg["arm"] == "Mens E-Mail"]
    assert np.all(np.abs(mens["pooled_lift"] - overall) <= np.abs(mens["raw_lift"] - overall) + 1e-3)
    assert any(c.name.startswith("order-value PPC") for c in result.checks)


def test_replayed_daily_sequential_check(events):
    replay = events.assign(day=spread_over_days(events, days=14, seed=1))
    daily = validate_aggregated(aggregate_events(replay, arm="segment", converted="conversion", timestamp="day"))
    result = check_result(daily, StoppingRule(threshold=0.05), control="No E-Mail")
    looks = result.tables["looks"]
    assert len(looks) == 14
    assert result.decision.action == "ship Mens E-Mail"
    first_ship = looks.index[looks["decision"] == "ship Mens E-Mail"].min()
    assert 7 <= first_ship <= 14  # not before the min-days guard
