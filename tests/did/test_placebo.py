"""Few treated units: treating control units in turn must not look like an effect (Conley & Taber 2011)."""

from __future__ import annotations

import numpy as np

from bayescausal.data.panel import Panel
from bayescausal.did.analysis import analyze
from bayescausal.did.model import Cohort
from bayescausal.did.placebo import permutation_placebo

NAME = "permutation placebo over control units (few treated units)"


def _panel(control_sd: np.ndarray, seed: int = 0) -> Panel:
    """One treated store (rows 0) beside controls whose noise sd is `control_sd`, 12 periods, treated 9-11."""
    rng = np.random.default_rng(seed)
    sd = np.r_[1.0, control_sd]
    y = rng.normal(0, 5, (len(sd), 1)) + rng.normal(0, 1, (len(sd), 12)) * sd[:, None]
    treated = np.zeros_like(y, dtype=bool)
    treated[0, 9:] = True
    y[0, 9:] += 1.0
    return Panel(y, treated, np.arange(len(sd)), np.arange(12))


def test_comparable_controls_pass_and_the_rate_is_near_nominal():
    rates = []
    for seed in range(20):
        zc = np.random.default_rng(seed).normal(0, 1, 80)
        result = permutation_placebo(Cohort(9, 11, np.array([0]), np.arange(1, 81), np.array([0.0]), zc, "9-11"))
        rates.append(result.false_alarm_rate)
        assert result.permutations == 80
    assert np.mean(rates) < 0.03  # nominally 1%


def test_controls_too_unlike_each_other_fail_and_block_the_verdict():
    calm = analyze(_panel(np.full(60, 1.0)))
    assert {c.name: c for c in calm.checks}[NAME].passed
    wild = analyze(_panel(np.r_[np.full(50, 0.2), np.full(10, 8.0)]))
    check = {c.name: c for c in wild.checks}[NAME]
    assert not check.passed and check.gating and "too narrow" in check.detail
    assert wild.decision.verdict == "inconclusive" and NAME in {b["name"] for b in wild.decision.blocking}


def test_many_treated_units_do_not_run_it():
    from bayescausal.simulate.did import simulate_panel

    result = analyze(simulate_panel(units=200, periods=30, seed=0))
    assert NAME not in {c.name for c in result.checks}


def test_the_proposed_holdout_brings_the_sd_to_the_threshold():
    from bayescausal.did.analysis import holdout_size

    n = holdout_size(10.0, 400, 1.0)
    assert 10.0 * np.sqrt(1 / 400 + 1 / n) <= 1.0 < 10.0 * np.sqrt(1 / 400 + 1 / (n - 1))
    assert holdout_size(10.0, 400, 0.5) is None  # 400 recipients alone already have sd 0.5


def test_a_blocked_did_verdict_names_the_holdout_that_would_settle_it(tmp_path, capsys):
    import json

    from bayescausal.cli import main
    from tests.test_verdict import _trend_panel

    main(_trend_panel(tmp_path / "t.csv", drift=0.4) + ["--treated", "D", "--json", "--no-report"])
    step = json.loads(capsys.readouterr().out)["decision"]["next_step"]
    assert step["fields"]["holdout"] > 0 and "randomised holdout" in step["text"]
