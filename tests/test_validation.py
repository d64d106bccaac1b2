"""Every bad input gets a DataError that names the problem and the fix; the input is never modified."""

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.data import aggregate_events, validate_aggregated
from bayescausal.data import fingerprint, read_table
from bayescausal.errors import DataError


def frame(**overrides):
    base = {"arm": ["A", "B"], "visitors": [100, 120], "conversions": [10, 14]}
    base.update(overrides)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("df", "message"),
    [
        (frame().drop(columns="visitors"), r"missing column\(s\) 'visitors'.*Expected 'arm', 'visitors'"),
        (frame(visitors=["100", "abc"]), "'visitors' must be numeric"),
        (frame(conversions=[10, np.nan]), "'conversions' has 1 missing or infinite"),
        (frame(visitors=[100, np.inf]), "'visitors' has 1 missing or infinite"),
        (frame(conversions=[-1, 14]), "'conversions' has 1 negative"),
        (frame(conversions=[10.5, 14]), "non-integer"),
        (frame(conversions=[101, 14]), "'conversions' exceeds 'visitors'"),
        (frame(visitors=[0, 120], conversions=[0, 14]), "arm\\(s\\) 'A' have no visitors"),
        (frame(arm=["A", "A"]), "only one arm"),
        (pd.DataFrame({"arm": ["A", "A", "B"], "visitors": [1, 2, 3], "conversions": [0, 0, 0]}), "duplicated rows"),
        (frame(arm=["A", None]), "'arm' has missing values"),
        (frame(revenue=[-5.0, 3.0], revenue_sq=[25.0, 9.0]), "'revenue' is negative in 1 row.*refund statistics"),
        (frame(revenue=[5.0, 3.0]), "needs 'revenue_sq'"),
        (frame(revenue=[5.0, 3.0], revenue_sq=[25, 9], purchasers=[0, 1]), "revenue > 0 but 0 purchasers"),
    ],
)
def test_bad_aggregated_input(df, message):
    before = df.copy()
    with pytest.raises(DataError, match=message):
        validate_aggregated(df)
    pd.testing.assert_frame_equal(df, before)  # the user's frame is untouched


def test_column_mapping_and_cumulative_days():
    df = pd.DataFrame(
        {"variant": ["A", "B", "A", "B"], "day": [1, 1, 2, 2], "users": [10, 10, 20, 18], "conversions": [1, 1, 2, 0]}
    )
    with pytest.raises(DataError, match="fall from one day to the next .*cannot be cumulative.*--counts daily"):
        validate_aggregated(df, {"arm": "variant", "visitors": "users"})
    with pytest.raises(DataError, match="declared cumulative fall"):
        validate_aggregated(df, {"arm": "variant", "visitors": "users"}, counts="cumulative")
    daily = validate_aggregated(df, {"arm": "variant", "visitors": "users"}, counts="daily")
    assert daily.set_index(["arm", "day"]).loc[("B", 2), "conversions"] == 1  # 1 + 0, summed to date
    df.loc[3, "conversions"] = 3
    with pytest.raises(DataError, match="read as cumulative totals to date or as each day's own counts alike"):
        validate_aggregated(df, {"arm": "variant", "visitors": "users"})
    clean = validate_aggregated(df, {"arm": "variant", "visitors": "users"}, counts="cumulative")
    assert list(clean.columns[:3]) == ["arm", "day", "visitors"]
    assert "cumulative totals to date (declared)" in clean.attrs["notes"][0]


def test_rising_daily_increments_are_not_read_as_cumulative(capsys, tmp_path):
    """Each day's own counts that rise every day fit both readings; read as cumulative, only the last day would
    count. Undeclared, they are refused with the fix; declared daily, every day counts."""
    import json

    from bayescausal.cli import main

    days = [
        {"day": d, "arm": arm, "visitors": 1000 + 100 * d, "conversions": 50 + 5 * d + (arm == "B") * d}
        for d in range(1, 8)
        for arm in ("A", "B")
    ]
    path = tmp_path / "increments.csv"
    pd.DataFrame(days).to_csv(path, index=False)
    assert main(["ab", "check", str(path), "--control", "A", "--json", "--no-report"]) == 2
    assert "--counts cumulative or --counts daily" in capsys.readouterr().err
    main(["ab", "check", str(path), "--control", "A", "--counts", "daily", "--json", "--no-report"])
    s = json.loads(capsys.readouterr().out)
    assert s["arms"]["B"]["visitors"] == sum(1000 + 100 * d for d in range(1, 8))
    assert any("each day's own counts (declared)" in n for n in s["notes"])


def test_event_errors():
    ev = pd.DataFrame({"user": [1, 2, 2], "arm": ["A", "B", "A"], "converted": [0, 1, 0]})
    with pytest.raises(DataError, match="1 user\\(s\\) appear in more than one arm"):
        aggregate_events(ev, user="user")
    with pytest.raises(DataError, match="must be 0/1"):
        aggregate_events(ev.assign(converted=[0, 2, 1]))
    with pytest.raises(DataError, match="missing column"):
        aggregate_events(ev, revenue="spend")


def test_read_table(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(DataError, match="use a .csv or .parquet"):
        read_table(tmp_path / "x.txt")
    (tmp_path / "empty.csv").write_text("arm,visitors,conversions\n")
    with pytest.raises(DataError, match="no rows"):
        read_table(tmp_path / "empty.csv")
    df = frame()
    df.to_parquet(tmp_path / "d.parquet")
    df.to_csv(tmp_path / "d.csv", index=False)
    assert fingerprint(read_table(tmp_path / "d.parquet")) == fingerprint(read_table(tmp_path / "d.csv"))
    assert fingerprint(df) != fingerprint(frame(visitors=[100, 121]))
