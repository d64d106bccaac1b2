"""Planning a test, and how much more data a `continue` needs: the stopping rule simulated forward."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayescausal.ab.planning import plan_test
from bayescausal.ab.sequential import StoppingRule, operating_characteristics
from bayescausal.cli import main
from bayescausal.datasets import load_dataset


def test_the_plan_agrees_with_the_operating_characteristics_simulation():
    rule = StoppingRule(threshold=0.01, min_days=5)
    plan = plan_test(baseline=0.05, min_effect=0.1, daily_visitors=1500, max_days=21, rule=rule, sims=400, seed=1)
    oc = operating_characteristics(
        baseline=0.05, lifts=[-0.1, 0.0, 0.1], daily_visitors=1500, max_days=21, rule=rule, n_sims=400, seed=2
    )
    seq = oc[oc["procedure"] == "sequential"].set_index("true_lift")
    for row in plan.rows:
        other = seq.loc[row["true_lift"]]
        # two independent simulations of the same rule: ship rates agree within Monte-Carlo error
        se = np.sqrt(2 * max(other["ship_rate"] * (1 - other["ship_rate"]), 0.01) / 400)
        assert abs(row["P(ship)"] - other["ship_rate"]) < 4 * se
        decided_days = row["expected_days"]
        assert 5 <= decided_days <= 21


def test_more_traffic_means_fewer_days_and_too_little_is_refused(capsys):
    base = ["ab", "plan", "--baseline", "0.05", "--min-effect", "0.1", "--days", "28", "--sims", "200", "--json"]
    main([*base, "--daily-visitors", "8000", "--no-report"])
    fast = json.loads(capsys.readouterr().out)
    main([*base, "--daily-visitors", "2000", "--no-report"])
    slow = json.loads(capsys.readouterr().out)
    assert fast["decision"]["verdict"] == "act" and fast["days_needed"] < (slow["days_needed"] or 99)
    assert main([*base, "--daily-visitors", "50", "--no-report"]) == 0
    starved = json.loads(capsys.readouterr().out)
    assert starved["decision"]["verdict"] == "do not act" and starved["days_needed"] is None
    assert starved["decision"]["next_step"]["text"].startswith("raise the daily traffic")


@pytest.mark.parametrize("flags", [["--min-effect", "0"], ["--baseline", "1.2"], ["--power", "1"]])
def test_impossible_plans_are_refused(capsys, flags):
    assert main(["ab", "plan", *flags, "--no-report"]) == 2


def test_a_check_that_says_continue_says_how_many_more_days(capsys, tmp_path):
    frame, _ = load_dataset("simulated-ab-daily")
    path = tmp_path / "daily.csv"
    frame.to_csv(path, index=False)
    assert (
        main(["ab", "check", str(path), "--control", "control", "--counts", "cumulative", "--json", "--no-report"]) == 4
    )
    s = json.loads(capsys.readouterr().out)
    step = s["decision"]["next_step"]
    assert s["decision"]["verdict"] == "continue" and step["fields"]["more_days"] > 0
    assert (
        step["fields"]["more_visitors_per_arm"]
        == step["fields"]["more_days"] * step["fields"]["daily_visitors_per_arm"]
    )
    assert "more day(s)" in step["text"]
