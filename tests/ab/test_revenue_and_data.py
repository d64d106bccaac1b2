import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.data import aggregate_events, arm_totals, validate_aggregated
from bayescausal.ab.revenue import LOGNORMAL, NORMAL_APPROX, fit_revenue
from bayescausal.errors import DataError
from bayescausal.simulate.ab import make_truth, simulate_events


def test_aggregation_matches_pandas_groupby():
    ev = simulate_events(make_truth(seed=4), users=20_000, seed=5)
    agg = aggregate_events(ev, user="user", revenue="revenue", segment="segment")
    ref = ev.groupby(["arm", "segment"]).agg(
        visitors=("user", "size"), conversions=("converted", "sum"), revenue=("revenue", "sum")
    )
    got = agg.set_index(["arm", "segment"]).loc[ref.index]
    assert (got["visitors"] == ref["visitors"]).all() and (got["conversions"] == ref["conversions"]).all()
    assert np.allclose(got["revenue"], ref["revenue"])
    assert (got["purchasers"] == got["conversions"]).all()


def test_daily_aggregation_is_cumulative():
    ev = simulate_events(make_truth(seed=4), users=5_000, days=5, seed=6)
    daily = validate_aggregated(aggregate_events(ev, timestamp="timestamp"))
    last = daily[daily["day"] == daily["day"].max()].set_index("arm")["visitors"]
    assert last.sum() == 5_000
    assert (daily.groupby("arm")["visitors"].diff().dropna() >= 0).all()
    assert arm_totals(daily)["visitors"].sum() == 5_000  # totals read the latest cumulative day


def test_lognormal_revenue_recovers_truth_with_coverage():
    """Across simulated experiments the 94% interval of revenue per user covers the truth ~94% of the time."""
    truth = make_truth(n_segments=1, baseline=0.05, mean_relative_lift=0.0, lift_sd=0.0, seed=1)
    true_rpu = truth.rates[0, 0] * truth.mean_order_value
    covered = []
    for seed in range(60):
        ev = simulate_events(truth, users=8_000, seed=100 + seed)
        totals = arm_totals(validate_aggregated(aggregate_events(ev, revenue="revenue")))
        post = fit_revenue(totals, draws=4_000, seed=seed)
        assert post.method == LOGNORMAL
        lo, hi = np.quantile(post.per_user[:, 0], [0.03, 0.97])
        covered.append(lo <= true_rpu <= hi)
    assert 0.85 <= np.mean(covered) <= 1.0


def test_ppc_flags_order_values_that_are_not_lognormal():
    rng = np.random.default_rng(0)
    n = 4_000
    # order values: a point mass at 10 plus rare huge orders -> mean and sd far from any lognormal fit
    values = np.where(rng.random(n) < 0.97, 10.0, 2_000.0)
    ev = pd.DataFrame({"arm": np.repeat(["A", "B"], n // 2), "converted": 1, "revenue": values})
    post = fit_revenue(arm_totals(validate_aggregated(aggregate_events(ev, revenue="revenue"))), seed=1)
    assert post.ppc_misfit, post.ppc
    good = simulate_events(make_truth(seed=2), users=20_000, seed=3)
    post = fit_revenue(arm_totals(validate_aggregated(aggregate_events(good, revenue="revenue"))), seed=1)
    assert not post.ppc_misfit, post.ppc


def test_normal_approximation_path_and_its_guard():
    totals = pd.DataFrame(
        {
            "visitors": [1000, 1000],
            "conversions": [50, 60],
            "purchasers": [50, 60],
            "revenue": [2000.0, 2700.0],
            "revenue_sq": [120_000.0, 160_000.0],
        },
        index=["A", "B"],
    )
    post = fit_revenue(totals, seed=0)
    assert post.method == NORMAL_APPROX
    assert post.order_value[:, 0].mean() == pytest.approx(40.0, rel=0.01)
    assert any("fewer than 100 purchases" in w for w in post.warnings)
    with pytest.raises(DataError, match="fewer than 2 purchases"):
        fit_revenue(totals.assign(purchasers=[1, 60]), seed=0)
