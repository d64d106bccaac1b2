"""Ratio metrics keep the user as the unit: a session-level interval is too narrow, ours covers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.data import aggregate_events, arm_totals, validate_aggregated
from bayescausal.ab.ratio import Ratio, ratio_posterior
from bayescausal.cli import main
from bayescausal.errors import SpecError

TRUE = {"A": 2.0, "B": 2.2}  # revenue per session


def _users(n: int, seed: int) -> pd.DataFrame:
    """Users differ in how many sessions they have and in what each of their sessions is worth (clustering)."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["A", "B"], n)
    sessions = rng.poisson(rng.gamma(2.0, 2.0, n)) + 1
    worth = rng.lognormal(-0.5, 1.0, n)  # mean 1: a user's sessions are all rich or all poor
    per_session = np.where(arm == "B", TRUE["B"], TRUE["A"]) * worth
    revenue = rng.gamma(sessions * 4.0, per_session / 4.0)  # sum of the user's session values
    return pd.DataFrame({"arm": arm, "converted": 1, "revenue": revenue, "sessions": sessions})


def _ours(frame: pd.DataFrame, ratio: Ratio, draws: int = 4_000) -> np.ndarray:
    events = aggregate_events(
        frame, arm="arm", converted="converted", metrics=("revenue", "sessions"), products=(("revenue", "sessions"),)
    )
    totals = arm_totals(
        validate_aggregated(events, metrics=("revenue", "sessions"), products=(("revenue", "sessions"),))
    )
    post = ratio_posterior(totals.loc[["A", "B"]], ratio, draws=draws, seed=0)
    return post.per_user[:, 1] - post.per_user[:, 0]


def _naive(frame: pd.DataFrame) -> tuple[float, float]:
    """Sessions as independent observations: each user's revenue spread evenly over their sessions."""
    est, var = [], []
    for arm in ("A", "B"):
        rows = frame[frame["arm"] == arm]
        values = np.repeat(rows["revenue"] / rows["sessions"], rows["sessions"])
        est.append(values.mean())
        var.append(values.var(ddof=1) / len(values))
    return est[1] - est[0], float(np.sqrt(sum(var)))


def test_session_level_intervals_are_too_narrow_and_ours_cover():
    ratio, truth = Ratio.parse("revenue/sessions"), TRUE["B"] - TRUE["A"]
    ours, naive = [], []
    for seed in range(150):
        frame = _users(1_500, seed)
        lift = _ours(frame, ratio)
        low, high = np.quantile(lift, [0.03, 0.97])
        ours.append(low <= truth <= high)
        est, se = _naive(frame)
        naive.append(abs(est - truth) <= 1.88 * se)
    assert 0.88 <= np.mean(ours) <= 0.99
    assert np.mean(naive) < 0.85  # treats correlated sessions as independent


def test_ratio_through_the_cli(capsys, tmp_path):
    path = tmp_path / "users.csv"
    _users(4_000, 0).to_csv(path, index=False)
    argv = [
        "ab",
        "analyze",
        str(path),
        "--events",
        "--control",
        "A",
        "--json",
        "--no-report",
        "--ratio",
        "revenue/sessions",
    ]
    assert main([*argv, "--metric", "ratio"]) in (0, 6)
    s = json.loads(capsys.readouterr().out)
    assert {"revenue_per_sessions_A", "revenue_per_sessions_B", "revenue_per_sessions_lift_B"} <= set(s["estimates"])
    assert s["decision"]["criteria"]["metric"] == "ratio"
    assert s["estimates"]["revenue_per_sessions_A"]["mean"] == pytest.approx(TRUE["A"], rel=0.15)


@pytest.mark.parametrize("text", ["revenue", "revenue/", "/sessions", "a/a"])
def test_malformed_ratios_are_refused(text):
    with pytest.raises(SpecError):
        Ratio.parse(text)


def test_a_numerator_without_a_denominator_is_refused(capsys, tmp_path):
    frame = _users(500, 0)
    frame.loc[3, "sessions"] = 0
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False)
    code = main(
        ["ab", "analyze", str(path), "--events", "--control", "A", "--no-report", "--ratio", "revenue/sessions"]
    )
    assert code == 2 and "sessions = 0" in capsys.readouterr().err
    assert main(["ab", "analyze", str(path), "--events", "--no-report", "--metric", "ratio"]) == 2
    assert "--ratio" in capsys.readouterr().err
