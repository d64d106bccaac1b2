"""Cells that real A/B exports lack: a (segment, arm) row missing on a later day of a cumulative file, an arm
missing on the last day, and a segment that only one arm has. Each gets the right answer or a clear refusal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.data import validate_aggregated
from bayescausal.cli import main
from bayescausal.errors import DataError

SEGMENTS = {"desktop": 0.05, "mobile": 0.03, "tablet": 0.04}


def cumulative(days: int = 10, lift: float = 0.12, seed: int = 5) -> pd.DataFrame:
    """Cumulative daily counts per (segment, arm), B converting `lift` better in every segment."""
    rng = np.random.default_rng(seed)
    rows, total = [], {}
    for d in range(days):
        day = (pd.Timestamp("2026-03-02") + pd.Timedelta(days=d)).strftime("%Y-%m-%d")
        for segment, rate in SEGMENTS.items():
            for arm, r in (("A", rate), ("B", rate * (1 + lift))):
                n = int(rng.poisson(800))
                c = int(rng.binomial(n, r))
                v0, c0 = total.get((segment, arm), (0, 0))
                total[segment, arm] = (v0 + n, c0 + c)
                rows.append({"day": day, "segment": segment, "arm": arm, "visitors": v0 + n, "conversions": c0 + c})
    return pd.DataFrame(rows)


def _json(capsys, argv) -> tuple[int, dict | None, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else None), err


def _analyze(capsys, tmp_path, frame, command="analyze", name="daily.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    argv = ["ab", command, str(path), "--control", "A", "--json", "--no-report"]
    argv += ["--counts", "cumulative"] if "day" in frame.columns else []
    if command == "analyze":
        argv += ["--segments", "beta-binomial"]
    return _json(capsys, argv)


def test_a_cell_missing_on_a_later_day_keeps_its_history(capsys, tmp_path):
    full = cumulative()
    last = full["day"].max()
    gap = full[~((full["day"] == last) & (full["segment"] == "mobile") & (full["arm"] == "B"))]
    # the truth: that cell had no new data on the last day, so its cumulative counts are the day before's
    before = full[
        (full["day"] == sorted(full["day"].unique())[-2]) & (full["segment"] == "mobile") & (full["arm"] == "B")
    ]
    expected = full[(full["day"] == last)].copy()
    expected.loc[(expected["segment"] == "mobile") & (expected["arm"] == "B"), ["visitors", "conversions"]] = before[
        ["visitors", "conversions"]
    ].to_numpy()
    want = expected.groupby("arm")[["visitors", "conversions"]].sum()

    code, s, err = _analyze(capsys, tmp_path, gap)
    assert s is not None, err
    assert s["arms"]["B"]["visitors"] == want.loc["B", "visitors"]
    assert s["arms"]["B"]["conversions"] == want.loc["B", "conversions"]
    assert any("carried forward" in n and "(mobile, B)" in n for n in s["notes"])
    code, c, err = _analyze(capsys, tmp_path, gap, command="check")
    assert c is not None, err
    assert c["arms"]["B"]["visitors"] == want.loc["B", "visitors"]
    assert any("carried forward" in n for n in c["notes"])


def test_an_arm_missing_on_the_last_day_is_refused_with_the_day(capsys, tmp_path):
    full = cumulative()
    last = full["day"].max()
    gap = full[~((full["day"] == last) & (full["arm"] == "B"))]
    for command in ("analyze", "check"):
        code, s, err = _analyze(capsys, tmp_path, gap, command=command)
        assert code == 2, (command, err)
        assert "'B' have no row on the last day (2026-03-11)" in err and "drop it" in err


def test_a_segment_only_one_arm_has_is_left_out_of_the_comparison(capsys, tmp_path):
    shared = cumulative(days=1, lift=0.15, seed=2).drop(columns="day")
    ios = pd.DataFrame([{"segment": "ios", "arm": "A", "visitors": 2000, "conversions": 400}])
    code, clean, err = _analyze(capsys, tmp_path, shared, name="shared.csv")
    code, s, err = _analyze(capsys, tmp_path, pd.concat([shared, ios]), name="ios.csv")
    assert s is not None, err
    # compared on the segments both arms have: the same numbers as without the one-arm segment
    assert s["arms"] == clean["arms"]
    assert s["estimates"]["lift_B"] == clean["estimates"]["lift_B"]
    assert any("left out 'ios' (only in A: 2,000 visitors)" in n for n in s["notes"])
    assert "ios" not in {row["segment"] for row in s["segments"]}


def test_no_segment_in_every_arm_is_refused():
    frame = pd.DataFrame(
        [
            {"segment": "ios", "arm": "A", "visitors": 100, "conversions": 5},
            {"segment": "web", "arm": "B", "visitors": 100, "conversions": 6},
        ]
    )
    with pytest.raises(DataError, match="no segment has visitors in every arm"):
        validate_aggregated(frame)


@pytest.mark.parametrize("name", ["date", "Week"])
def test_a_day_column_under_another_name_is_named_not_summed(capsys, tmp_path, name):
    frame = cumulative(days=4).drop(columns="segment").groupby(["day", "arm"], as_index=False).sum()
    if name == "Week":
        frame["day"] = frame["day"].rank(method="dense").astype(int)
    code, s, err = _analyze(capsys, tmp_path, frame.rename(columns={"day": name}), command="check")
    assert code == 2 and f"--col day={name}" in err and "--counts cumulative" in err


def test_the_planned_split_names_each_arm(capsys, tmp_path):
    """Shares are control first, then the other arms in file order, whatever the file's own order; the check
    names whose share is whose."""
    frame = pd.DataFrame({"arm": ["B", "A"], "visitors": [1000, 9000], "conversions": [50, 450]})
    path = tmp_path / "split.csv"
    frame.to_csv(path, index=False)
    assert main(["ab", "analyze", str(path), "--control", "A", "--allocation", "0.9,0.1", "--json", "--no-report"]) == 0
    srm = json.loads(capsys.readouterr().out)["checks"][0]
    assert srm["passed"] and srm["values"]["next_step"]["planned"] == {"A": 0.9, "B": 0.1}
    assert "against the planned {'A': 0.9, 'B': 0.1}" in srm["detail"]
