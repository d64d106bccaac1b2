"""One treated unit and two controls: the effect's exact posterior is Student-t with one degree of freedom, which
has no mean and no sd. What is published must not be a fresh random number for every seed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.cli import main
from bayescausal.data.panel import Panel
from bayescausal.did.model import cohorts, moments_below, within_estimator
from bayescausal.estimates import from_draws


@pytest.fixture
def three_units(tmp_path):
    rng = np.random.default_rng(1)
    periods = 12
    y = np.array([50.0, 40.0, 60.0])[:, None] + rng.normal(0, 3, (3, periods)) + np.sin(np.arange(periods))
    d = np.zeros((3, periods), bool)
    d[0, 8:] = True
    y[0, 8:] += 2.0
    rows = [
        {"unit": f"u{i}", "time": t, "outcome": y[i, t], "treated": int(d[i, t])}
        for i in range(3)
        for t in range(periods)
    ]
    path = tmp_path / "three.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path, Panel(y, d, np.array(["u0", "u1", "u2"]), np.arange(periods))


def test_student_t_moments():
    assert [moments_below(df) for df in (1.0, 2.0, 2.5, 3.0, 30.0, float("inf"))] == [0, 1, 2, 2, 2, 2]
    draws = np.random.default_rng(0).standard_cauchy(4000)
    est = from_draws(draws, method="monte-carlo", finite_moments=0)
    assert np.isnan(est.mean) and np.isnan(est.sd) and est.mcse_mean is None
    assert est.centre == est.median and abs(est.median) < 0.1
    assert 0 < est.spread < 20  # a Normal-equivalent spread from the interval, never the sample sd


def test_one_treated_unit_publishes_a_stable_centre_and_stays_inconclusive(capsys, three_units):
    path, panel = three_units
    runs = []
    for seed in range(4):
        assert (
            main(["did", "fit", "--data", str(path), "--json", "--no-report", "--seed", str(seed)]) == 6
        )  # inconclusive
        runs.append(json.loads(capsys.readouterr().out))
    for s in runs:
        att = s["estimates"]["att"]
        assert att["mean"] is None and att["sd"] is None  # they do not exist; null, not a random number
        assert s["decision"]["verdict"] == "inconclusive"
        failed = {c["name"]: c for c in s["checks"] if not c["passed"]}
        assert failed["enough units to estimate the noise"]["gating"]
        assert "1 degree(s) of freedom" in failed["enough units to estimate the noise"]["detail"]
    centres = np.array([s["lift_test"]["effect_per_unit_period"] for s in runs])
    spreads = np.array([s["lift_test"]["sd"] for s in runs])
    medians = np.array([s["estimates"]["att"]["median"] for s in runs])
    assert np.ptp(centres) < 0.05 * spreads.mean() and np.ptp(spreads) < 0.1 * spreads.mean()
    assert np.allclose(centres, medians)
    # the centre is the within (two-way fixed effects) estimate on the same cells, as the exact posterior's median
    (cohort,) = cohorts(panel)
    beta, _ = within_estimator(panel)
    assert abs(medians.mean() - beta) < 0.05 * spreads.mean()
    assert abs(beta - (cohort.z_treated.mean() - cohort.z_control.mean())) < 1e-9


def test_staggered_adoption_where_every_unit_is_treated_eventually(capsys, tmp_path):
    """Two cohorts and no never-treated unit: the early cohort is compared with the late one before the late one
    is treated (not-yet-treated controls); the last cohort has no comparison, and the report says so."""
    rng = np.random.default_rng(2)
    units, periods, effect = 80, 14, 3.0
    start = np.where(np.arange(units) < 40, 5, 10)  # every unit is treated: from period 5 or from period 10
    y = rng.gamma(2.0, 10.0, units)[:, None] + np.sin(np.arange(periods))[None] + rng.normal(0, 2, (units, periods))
    d = np.arange(periods)[None, :] >= start[:, None]
    y = y + effect * d
    rows = [
        {"unit": i, "time": t, "outcome": y[i, t], "treated": int(d[i, t])}
        for i in range(units)
        for t in range(periods)
    ]
    path = tmp_path / "all_treated.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    main(["did", "fit", "--data", str(path), "--json", "--no-report", "--no-refutations"])
    s = json.loads(capsys.readouterr().out)
    att = s["estimates"]["att"]
    assert att["hdi_low"] <= effect <= att["hdi_high"], att
    notes = " ".join(s["notes"])
    assert "compared over periods 5-9 only" in notes and "from period 10 (40 units)" in notes
    assert "its effect is not estimated" in notes
    # the same contrast by hand: early units' post (5..9) minus pre (0..4), against the late units'
    z = y[:, 5:10].mean(1) - y[:, :5].mean(1)
    assert abs(att["mean"] - (z[:40].mean() - z[40:].mean())) < 4 * att["sd"] / np.sqrt(1000)
