"""Regression adjustment (Bayesian CUPED): exact posterior against OLS, variance reduction, no shift on A/A,
interval coverage, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.adjust import adjusted_means
from bayescausal.ab.data import aggregate_events, arm_totals, validate_aggregated
from bayescausal.cli import main


def _users(n: int, lift: float, rho: float = 0.7, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["A", "B"], n)
    pre = rng.normal(0, 1, n)
    revenue = 20 + 10 * (rho * pre + np.sqrt(1 - rho**2) * rng.normal(0, 1, n)) + lift * (arm == "B")
    return pd.DataFrame({"arm": arm, "converted": 1, "revenue": revenue, "pre": 5 + pre})


def _totals(frame):
    events = aggregate_events(frame, arm="arm", converted="converted", revenue="revenue", covariate="pre")
    return arm_totals(validate_aggregated(events, metrics=("pre",))).loc[["A", "B"]]


def test_the_posterior_mean_is_the_ancova_estimate_and_the_sd_its_standard_error():
    frame = _users(5_000, 0.5)
    adj = adjusted_means(_totals(frame), metric="revenue", squares="revenue_sq", covariate="pre", draws=200_000, seed=0)
    X = np.column_stack([frame["arm"] == "A", frame["arm"] == "B", frame["pre"] - frame["pre"].mean()]).astype(float)
    beta, *_ = np.linalg.lstsq(X, frame["revenue"], rcond=None)
    resid = frame["revenue"] - X @ beta
    cov = np.linalg.inv(X.T @ X) * (resid @ resid) / (len(frame) - 3)
    lift = adj.per_user[:, 1] - adj.per_user[:, 0]
    se = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert lift.mean() == pytest.approx(beta[1] - beta[0], abs=0.01 * se)
    assert lift.std() == pytest.approx(se, rel=0.01)
    assert adj.slope == pytest.approx(beta[2], rel=1e-9)


def test_a_correlated_covariate_shrinks_the_sd_by_a_quarter_or_more(capsys, tmp_path):
    path = tmp_path / "users.csv"
    _users(20_000, 0.5).to_csv(path, index=False)
    argv = ["ab", "analyze", str(path), "--events", "--control", "A", "--json", "--no-report", "--metric", "revenue"]
    main([*argv, "--covariate", "pre"])
    s = json.loads(capsys.readouterr().out)
    adjusted, unadjusted = s["estimates"]["revenue_lift_B"], s["estimates"]["revenue_lift_unadjusted_B"]
    assert adjusted["sd"] <= 0.75 * unadjusted["sd"]
    assert s["adjustment"]["variance_reduction"] == pytest.approx(0.49, abs=0.03)  # rho^2 = 0.49
    assert any("regression adjustment" in note for note in s["notes"])


def test_on_an_aa_test_the_adjustment_does_not_shift_the_estimate_and_covers():
    hits, shifts = [], []
    for seed in range(100):
        frame = _users(2_000, 0.0, seed=seed)
        adj = adjusted_means(
            _totals(frame), metric="revenue", squares="revenue_sq", covariate="pre", draws=4_000, seed=0
        )
        lift = adj.per_user[:, 1] - adj.per_user[:, 0]
        low, high = np.quantile(lift, [0.03, 0.97])
        hits.append(low <= 0.0 <= high)
        shifts.append(lift.mean() / lift.std())
    assert 0.88 <= np.mean(hits) <= 0.99  # 94% intervals
    assert abs(np.mean(shifts)) < 0.3  # no shift in expectation (mean z over 100 A/A tests: sd 0.1)


def test_covariate_errors_are_clear(capsys, tmp_path):
    frame = _users(2_000, 0.0)
    frame.loc[7, "pre"] = np.nan
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False)
    base = ["ab", "analyze", str(path), "--events", "--control", "A", "--no-report"]
    assert main([*base, "--covariate", "pre"]) == 2
    assert "'pre'" in capsys.readouterr().err
    assert main([*base, "--covariate", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
    frame.assign(pre=3.0).to_csv(path, index=False)
    assert main([*base, "--covariate", "pre"]) == 2
    assert "constant" in capsys.readouterr().err
