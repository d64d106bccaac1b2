"""Sufficient statistics where the rows live: DuckDB (the default), Apache Spark (local mode, for real: the
project's setup installs Java) and the in-memory pandas path give the same statistics and the same errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.data import aggregate_events
from bayescausal.ab.queries import aggregated_rows, event_statistics
from bayescausal.cli import main
from bayescausal.data.engine import Location, open_scan
from bayescausal.errors import DataError

ROWS = 2_000_000
EVENTS = dict(revenue="revenue", user="user", segment="segment")
ENGINES = ["duckdb", "spark"]


def _events(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(np.array(["control", "treatment"]), n)
    converted = (rng.random(n) < np.where(arm == "control", 0.04, 0.05)).astype(np.int8)
    revenue = np.where(converted == 1, rng.lognormal(3.0, 1.0, n), 0.0)
    revenue[rng.random(n) < 0.001] = -rng.lognormal(2.0, 0.5)  # a few refunds: net revenue below zero
    day = pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.integers(0, 14 * 86_400, n), unit="s")
    return pd.DataFrame(
        {
            "user": rng.permutation(n),
            "arm": arm,
            "converted": converted,
            "revenue": revenue,
            "segment": rng.choice(np.array(["desktop", "mobile", "tablet"]), n),
            "timestamp": day,
        }
    )


@pytest.fixture(scope="module")
def events_file(tmp_path_factory):
    frame = _events(ROWS)
    path = tmp_path_factory.mktemp("engines") / "events.parquet"
    frame.to_parquet(path, row_group_size=250_000)
    return frame, path


def _needs(engine: str) -> None:
    if engine == "spark" and not shutil.which("java"):
        pytest.skip("no Java runtime on PATH: `make` installs one (default-jre-headless) where it can")


def _statistics(engine: str, path, **kwargs) -> pd.DataFrame:
    _needs(engine)
    return event_statistics(open_scan(Location(path=str(path), engine=engine)), **kwargs)


@pytest.mark.parametrize("layout", [EVENTS, dict(user="user", timestamp="timestamp")], ids=["segments", "days"])
def test_every_engine_gives_the_same_statistics(events_file, layout):
    frame, path = events_file
    in_memory = aggregate_events(frame, **layout)
    duckdb = _statistics("duckdb", path, **layout)
    spark = _statistics("spark", path, **layout)
    logs = [c for c in duckdb.columns if c.startswith("log_")]  # ln() is each engine's own math library
    pd.testing.assert_frame_equal(duckdb.drop(columns=logs), spark.drop(columns=logs), check_exact=True)
    pd.testing.assert_frame_equal(duckdb[logs], spark[logs], check_exact=False, rtol=1e-12, atol=0)
    counts = in_memory.select_dtypes("integer").columns
    assert len(counts) >= 2 and (in_memory[counts] == duckdb[counts]).all().all()
    pd.testing.assert_frame_equal(
        in_memory, duckdb, check_exact=False, rtol=1e-8, atol=0
    )  # fixed point (15 digits) vs float
    assert list(in_memory.columns) == list(duckdb.columns)
    if layout is EVENTS:
        assert {"refunders", "log_revenue_sq"} <= set(duckdb.columns) and duckdb["visitors"].sum() == ROWS


def test_engine_sums_are_the_same_every_run(events_file):
    _, path = events_file
    scans = [open_scan(Location(path=str(path))) for _ in range(2)]
    first, second = (event_statistics(scan, **EVENTS) for scan in scans)
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    assert scans[0].queries == scans[1].queries  # the provenance a report records is the same text too


def _broken(frame: pd.DataFrame, tmp_path) -> tuple[pd.DataFrame, object]:
    """The first 50,000 users, one of them also recorded in the other arm."""
    bad = frame.head(50_000)
    other = "treatment" if bad["arm"].iloc[10] == "control" else "control"
    bad = pd.concat([bad, bad.iloc[[10]].assign(arm=other)], ignore_index=True)
    path = tmp_path / "two_arms.parquet"
    bad.to_parquet(path)
    return bad, path


def test_a_user_in_two_arms_is_the_same_error_everywhere(events_file, tmp_path):
    bad, path = _broken(events_file[0], tmp_path)
    messages = []
    with pytest.raises(DataError) as caught:
        aggregate_events(bad, **EVENTS)
    messages.append(str(caught.value))
    for engine in ENGINES:
        _needs(engine)
        with pytest.raises(DataError) as caught:
            _statistics(engine, path, **EVENTS)
        messages.append(str(caught.value))
    assert "1 user(s) appear in more than one arm" in messages[0]
    assert len(set(messages)) == 1, messages
    import signal

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Spark's own Ctrl-C handler is undone


def test_conversions_above_visitors_is_named_by_its_keys_on_every_engine(tmp_path):
    rows = pd.DataFrame(
        {
            "arm": ["A", "B", "A", "B"],
            "day": [1, 1, 2, 2],
            "visitors": [100, 90, 200, 180],
            "conversions": [5, 4, 9, 181],
        }
    )
    path = tmp_path / "daily.parquet"
    rows.to_parquet(path)
    messages = set()
    for engine in ENGINES:
        _needs(engine)
        with pytest.raises(DataError) as caught:
            aggregated_rows(open_scan(Location(path=str(path), engine=engine)), None)
        messages.add(str(caught.value))
    (message,) = messages
    assert "'conversions' exceeds 'visitors' in 1 row(s) (e.g. arm='B', day=2)" in message


def test_cli_reads_files_folders_and_databases_with_provenance(events_file, tmp_path, capsys):
    frame, _ = events_file
    small = frame.head(20_000).drop(columns="timestamp")
    folder = tmp_path / "partitioned"
    for segment, part in small.groupby("segment"):
        (folder / f"segment={segment}").mkdir(parents=True)
        part.drop(columns="segment").to_parquet(folder / f"segment={segment}" / "part-0.parquet")
    database = tmp_path / "events.duckdb"
    import duckdb

    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE events AS SELECT * FROM small")
    answers = []
    for source in ([str(folder)], [str(database), "--table", "events"]):
        out = tmp_path / f"report_{len(answers)}"
        argv = ["ab", "analyze", *source, "--events", "--control", "control", "--out", str(out), "--json"]
        code = main(argv)
        summary = json.loads(capsys.readouterr().out)
        assert code in (0, 6) and summary["inputs"]["engine"] == "duckdb"
        assert summary["inputs"]["rows"] == len(small) and any("GROUP BY" in q for q in summary["inputs"]["queries"])
        answers.append(summary["estimates"])
    assert answers[0] == answers[1]


def test_posterior_means_are_exact_from_engine_counts(events_file, tmp_path, capsys):
    _, path = events_file
    code = main(
        ["ab", "analyze", str(path), "--events", "--control", "control", "--out", str(tmp_path / "r"), "--json"]
    )
    summary = json.loads(capsys.readouterr().out)
    totals = aggregate_events(events_file[0], arm="arm", converted="converted").set_index("arm")
    for arm, row in totals.iterrows():
        assert summary["estimates"][f"rate_{arm}"]["mean"] == pytest.approx(
            (row.conversions + 1) / (row.visitors + 2), rel=1e-12
        )
    assert code in (0, 6)


def test_bad_locations_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no files match"):
        open_scan(Location(path=str(tmp_path / "*.parquet")))
    with pytest.raises(DataError, match="data file not found"):
        open_scan(Location(path=str(tmp_path / "missing.parquet")))
    with pytest.raises(DataError, match="name the table"):
        import duckdb

        duckdb.connect(str(tmp_path / "x.duckdb")).close()
        open_scan(Location(path=str(tmp_path / "x.duckdb")))
    with pytest.raises(DataError, match="unknown engine"):
        open_scan(Location(path=str(tmp_path), engine="oracle"))


def _order_lines(n: int, seed: int = 3) -> pd.DataFrame:
    """DT-Mart-style order lines: dates, GMV in rupees (a few unreadable), category and sub-category."""
    rng = np.random.default_rng(seed)
    sub = rng.choice(np.array(["CameraAccessory", "GamingAccessory", "HomeAudio"]), n)
    gmv = np.round(rng.lognormal(7.0, 1.0, n), 2).astype(object)
    gmv[rng.random(n) < 0.002] = " "  # as in the real export
    when = pd.Timestamp("2015-07-01") + pd.to_timedelta(rng.integers(0, 180 * 86_400, n), unit="s")
    return pd.DataFrame(
        {
            "order_date": when.strftime("%Y-%m-%d %H:%M:%S"),
            "gmv": gmv,
            "product_analytic_category": np.where(sub == "HomeAudio", "EntertainmentSmall", "CameraAccessory"),
            "product_analytic_sub_category": sub,
        }
    )


def _weekly_reference(lines: pd.DataFrame) -> pd.DataFrame:
    """Weekly GMV per sub-category in pandas, written independently of the engine path."""
    gmv = pd.to_numeric(lines["gmv"], errors="coerce")
    date = pd.to_datetime(lines["order_date"])
    sunday = (date - pd.to_timedelta((date.dt.dayofweek + 1) % 7, unit="D")).dt.normalize()
    frame = pd.DataFrame({"date": sunday, "subcategory": lines["product_analytic_sub_category"], "gmv": gmv / 1e7})
    return frame[gmv.notna()].groupby(["date", "subcategory"])["gmv"].sum()


def test_order_lines_become_the_same_weekly_totals_on_every_engine(tmp_path):
    from bayescausal.data.weekly import _order_weeks

    lines = _order_lines(300_000)
    path = tmp_path / "ConsumerElectronics.csv"
    lines.to_csv(path, index=False)
    weekly = {}
    for engine in ENGINES:
        _needs(engine)
        frame, source = _order_weeks(path, engine)
        weekly[engine] = frame.groupby(["date", "subcategory"])["gmv"].sum()
        assert f"{len(lines) - (lines['gmv'] == ' ').sum():,} orders summed by {engine}" in source
    pd.testing.assert_series_equal(weekly["duckdb"], weekly["spark"], check_exact=True)
    pd.testing.assert_series_equal(weekly["duckdb"], _weekly_reference(lines), check_exact=False, rtol=1e-12)
