"""Inputs real exports contain: each gets the right answer, or exit 2 with a message naming the cause and fix."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.cli import main
from bayescausal.errors import DataError
from bayescausal.simulate.did import simulate_panel

DID = ["did", "fit", "--json", "--no-report"]


def run(capsys, argv) -> tuple[int, dict | None, str]:
    code = main(argv)
    captured = capsys.readouterr()
    out = captured.out.strip()
    return code, (json.loads(out) if out.startswith("{") else None), captured.err


def did_csv(tmp_path, frame: pd.DataFrame, name: str = "panel.csv") -> str:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def long_panel() -> pd.DataFrame:
    panel = simulate_panel(units=60, periods=12, cohorts=((9, 11),), seed=3)
    return panel.to_long().rename(columns={"period": "time", "simulated spend": "outcome"})


# --- DiD time (item 1) ----------------------------------------------------------------------------------------


def _att(capsys, path, *extra):
    code, s, err = run(capsys, [*DID, "--data", path, *extra])
    assert s is not None, err
    return s["estimates"]["att"]["mean"], [c["name"] for c in s["checks"]]


@pytest.mark.parametrize(
    "label",
    [
        lambda t: "week" + (t + 1).astype(str),  # sorted as text, week10 would come before week2
        lambda t: pd.date_range("2019-12-02", periods=12, freq="W-MON")[t].strftime("%m/%d/%Y"),  # crosses a year
        lambda t: pd.date_range("2020-01-06", periods=12, freq="W-MON")[t].strftime("%d/%m/%Y"),
        lambda t: pd.date_range("2020-01-06", periods=12, freq="W-MON")[t].strftime("%d %b %Y"),
        lambda t: pd.date_range("2020-01-06", periods=12, freq="W-MON")[t].strftime("%Y-W%V"),
        lambda t: pd.period_range("2018Q3", periods=12, freq="Q")[t].strftime("%YQ%q"),  # crosses two years
        lambda t: pd.period_range("2018Q3", periods=12, freq="Q")[t].strftime("Q%q %Y"),
        lambda t: np.array([f"FY{23 + (k + 48) // 52} W{(k + 48) % 52 + 1:02d}" for k in t]),  # FY23 W49 .. FY24 W08
        lambda t: np.array([f"FY{24 + (k + 6) // 13}-P{(k + 6) % 13 + 1}" for k in t]),  # P7 .. P13, then P1
        lambda t: pd.period_range("2019-06", periods=12, freq="M")[t].strftime("%Y-%m"),
        lambda t: pd.period_range("2019-06", periods=12, freq="M")[t].strftime("%b %Y"),
    ],
    ids=[
        "week-labels",
        "us-dates",
        "day-first",
        "day-month-name",
        "iso-week",
        "quarters",
        "quarter-first",
        "fiscal-weeks",
        "fiscal-periods",
        "months",
        "month-names",
    ],
)
def test_time_labels_are_put_in_their_true_order(capsys, tmp_path, long_panel, label):
    reference, checks = _att(capsys, did_csv(tmp_path, long_panel, "int.csv"))
    relabelled = long_panel.assign(time=label(long_panel["time"].to_numpy()))
    att, relabelled_checks = _att(capsys, did_csv(tmp_path, relabelled.sample(frac=1, random_state=0)))
    assert att == reference and relabelled_checks == checks


def test_ambiguous_and_unordered_time_labels_are_refused(capsys, tmp_path, long_panel):
    early = pd.date_range("2020-01-01", periods=12, freq="D")  # every day <= 12: month-first or day-first?
    ambiguous = long_panel.assign(time=early[long_panel["time"]].strftime("%m/%d/%Y"))
    path = did_csv(tmp_path, ambiguous)
    code, _, err = run(capsys, [*DID, "--data", path])
    assert code == 2 and "time_format" in err and "US month-first" in err and "day-first" in err
    att, _ = _att(capsys, path, "--time-format", "%m/%d/%Y")
    reference, _ = _att(capsys, did_csv(tmp_path, long_panel, "int.csv"))
    assert att == reference
    names = np.array(list("qwertyuiopas"))
    code, _, err = run(capsys, [*DID, "--data", did_csv(tmp_path, long_panel.assign(time=names[long_panel["time"]]))])
    assert code == 2 and "time column 'time'" in err and "cannot tell the order" in err


# --- pre-trends without power, seeds, singletons (items 2, 4, 18) ---------------------------------------------


def _drifting_panel(n_controls: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units, periods = 8 + n_controls, 16
    y = rng.normal(0, 10, (units, 1)) + rng.normal(0, 30, (units, periods))
    treated = np.zeros((units, periods), bool)
    treated[:8, 12:] = True
    y[:8] += 0.5 * np.arange(periods) + 2.0 * treated[:8]
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), periods),
            "time": np.tile(np.arange(periods), units),
            "outcome": y.ravel(),
            "treated": treated.ravel().astype(int),
        }
    )


def test_a_pretrend_check_that_cannot_see_fails_and_gates(capsys, tmp_path):
    code, s, _ = run(capsys, [*DID, "--data", did_csv(tmp_path, _drifting_panel(12))])
    power = {c["name"]: c for c in s["checks"]}["linear pre-trend, and the power to see one"]
    assert not power["passed"] and power["gating"] and not power["values"]["powered"]
    assert power["values"]["detectable_bias"] > power["values"]["matters"]
    assert code == 6 and s["decision"]["verdict"] == "inconclusive"
    assert "CANNOT SEE" in power["detail"]


def test_a_large_panel_has_the_power_and_passes():
    from bayescausal.did.analysis import analyze

    result = analyze(simulate_panel(units=4000, periods=30, effect=2.0, seed=0))
    power = {c.name: c for c in result.checks}["linear pre-trend, and the power to see one"]
    assert power.passed and power.values["powered"] and not power.values["detected"]


def _early_pair(seed: int = 5) -> pd.DataFrame:
    panel = simulate_panel(units=60, periods=20, cohorts=((12, 19),), seed=seed)
    treated = panel.treated.copy()
    pair = np.flatnonzero(~treated.any(axis=1))[:2]
    treated[pair, 8:10] = True
    return pd.DataFrame(
        {
            "unit": np.repeat(panel.units, 20),
            "time": np.tile(panel.periods, 60),
            "outcome": panel.outcome.ravel(),
            "treated": treated.ravel().astype(int),
        }
    )


def test_a_two_unit_cohort_no_longer_makes_the_verdict_depend_on_the_seed(capsys, tmp_path):
    path = did_csv(tmp_path, _early_pair())
    verdicts, sds = set(), []
    for seed in range(5):
        code, s, _ = run(capsys, [*DID, "--data", path, "--seed", str(seed)])
        verdicts.add(s["decision"]["criteria"].get("rule_verdict", s["decision"]["verdict"]))
        sds.append(s["estimates"]["att"]["sd"])
        assert "mcse_prob_positive" in s["decision"]["criteria"]
    assert len(verdicts) == 1 and max(sds) / min(sds) < 1.1  # was 2.7 to 20.9 with a Cauchy-tailed posterior


def test_one_treated_unit_borrows_the_controls_spread(capsys, tmp_path):
    lone = _early_pair()  # two early units; switch one off, so the other forms a singleton cohort
    first = lone.loc[(lone["time"] == 8) & (lone["treated"] == 1), "unit"].iloc[0]
    lone.loc[(lone["unit"] == first), "treated"] = 0
    code, s, err = run(capsys, [*DID, "--data", did_csv(tmp_path, lone)])
    assert s is not None, err
    assert any(c["treated units"] == 1 for c in s["cohorts"])
    assert all(np.isfinite(c["effect_sd"]) for c in s["cohorts"])
    assert any("shared by treated and controls" in note for note in s["notes"])


def test_the_exact_one_treated_unit_posterior_is_the_equal_variance_t():
    from scipy import stats

    from bayescausal.did.model import effect_draws

    rng = np.random.default_rng(0)
    treated, control = np.array([3.0]), rng.normal(0, 2, 40)
    draws = effect_draws(treated, control, 400_000, np.random.default_rng(1))
    scale = control.std(ddof=1) * np.sqrt(1 + 1 / 40)
    reference = stats.t(df=39, loc=3.0 - control.mean(), scale=scale)
    for q in (0.05, 0.5, 0.95):
        assert abs(np.quantile(draws, q) - reference.ppf(q)) < 0.02


# --- Monte-Carlo error of the verdict (item 4) ----------------------------------------------------------------


def test_a_verdict_within_monte_carlo_error_of_its_cutoff_is_inconclusive():
    from bayescausal.diagnostics import exact
    from bayescausal.roi import DecisionRule, decide_from_draws
    from bayescausal.verdict import gate

    rule = DecisionRule(threshold_of_caring=10.0)
    rng = np.random.default_rng(0)
    near = decide_from_draws(rng.normal(1.2816, 1.0, 2_000), rule)  # P(> 0) ~ 0.90, the cutoff
    far = decide_from_draws(rng.normal(3.0, 1.0, 2_000), rule)
    assert near.criteria["monte_carlo_fragile"] == ["prob_positive"]
    assert far.criteria["monte_carlo_fragile"] == []
    gated = gate(near, [], exact("exact"))
    assert gated.verdict == "inconclusive" and gated.blocking[0]["kind"] == "monte-carlo"
    assert "--draws" in gated.next_step.text


def test_did_draws_more_until_the_verdict_is_stable():
    from bayescausal.data.panel import from_long
    from bayescausal.did.analysis import MAX_EXACT_DRAWS, analyze
    from bayescausal.did.model import cohorts, posterior_gaussian
    from bayescausal.did.options import DiDOptions
    from bayescausal.roi import DecisionRule

    panel = from_long(_early_pair(), unit="unit", time="time", outcome="outcome", treated="treated")
    close = DiDOptions(draws=200, refutations=False, rule=DecisionRule(min_prob_positive=0.8))  # P(> 0) ~ 0.785
    result = analyze(panel, close)
    assert result.decision.criteria["monte_carlo_fragile"] == []
    assert any("exact posterior draws (not 200)" in note for note in result.notes)
    assert result.decision.criteria["mcse_prob_positive"] < 0.005
    # a cutoff exactly at the posterior probability: no number of draws settles it, so the verdict waits
    groups = cohorts(panel)
    p_star = float((posterior_gaussian(groups, draws=MAX_EXACT_DRAWS, seed=0).att > 0).mean())
    stuck = analyze(panel, DiDOptions(draws=200, refutations=False, rule=DecisionRule(min_prob_positive=p_star)))
    assert stuck.posterior["posterior"]["att"].size == MAX_EXACT_DRAWS
    assert stuck.decision.verdict == "inconclusive" and stuck.exit_code() == 6
    assert "monte-carlo" in {b["kind"] for b in stuck.decision.blocking}


# --- validation of options and specs (items 3, 6, 13, 17) -----------------------------------------------------


@pytest.mark.parametrize("flags", [["--pre-periods", "0"], ["--pre-periods", "-2"], ["--leads", "-1"]])
def test_impossible_windows_are_refused(capsys, tmp_path, long_panel, flags):
    code, _, err = run(
        capsys, ["did", "fit", "--data", did_csv(tmp_path, long_panel), "--out", str(tmp_path / "r"), *flags]
    )
    assert code == 2 and ("pre_periods" in err or "leads" in err)
    assert not (tmp_path / "r").exists()


def test_a_column_name_in_the_wrong_table_is_named():
    from bayescausal.errors import SpecError
    from bayescausal.spec import parse_spec

    with pytest.raises(SpecError, match=r"map it in \[columns\] instead"):
        parse_spec({"kind": "did", "name": "x", "data": {"path": "p.csv"}, "model": {"outcome": "sales"}})
    with pytest.raises(SpecError, match="unknown key 'outcom' in \\[columns\\]"):
        parse_spec({"kind": "did", "name": "x", "data": {"path": "p.csv"}, "columns": {"outcom": "sales"}})
    spec = parse_spec({"kind": "did", "name": "x", "data": {"path": "p.csv"}, "columns": {"outcome": "sales"}})
    assert spec.columns == {"outcome": "sales"}


def test_a_mapped_outcome_column_is_the_one_analysed(capsys, tmp_path, long_panel):
    path = did_csv(tmp_path, long_panel.rename(columns={"outcome": "sales"}).assign(outcome=0.0))
    spec = tmp_path / "did.toml"
    spec.write_text(f'kind = "did"\nname = "x"\n[data]\npath = "{path}"\n[columns]\noutcome = "sales"\n')
    code, s, err = run(capsys, ["run", str(spec), "--json", "--no-report"])
    reference, _ = _att(capsys, did_csv(tmp_path, long_panel, "int.csv"))
    assert s is not None, err
    assert s["estimates"]["att"]["mean"] == reference  # not the decoy column named 'outcome'


def test_missing_column_hints_name_each_familys_own_flags(long_panel):
    from pathlib import Path

    from bayescausal.data.panel import from_long

    with pytest.raises(DataError, match="--unit, --time, --outcome and --treated"):
        from_long(long_panel, unit="store", time="time", outcome="outcome", treated="treated")
    package = Path(__file__).parents[1] / "bayescausal"
    assert not [p for p in package.rglob("*.py") if "--arm-col" in p.read_text()]


def test_missing_values_are_reported_by_their_unit_and_period(capsys, tmp_path, long_panel):
    """The file is summed in the engine, which has no file lines: the offending cells are named by their keys."""
    frame = long_panel.copy()
    frame.loc[[4, 9], "outcome"] = np.nan
    code, _, err = run(capsys, [*DID, "--data", did_csv(tmp_path, frame)])
    keys = [(int(frame.loc[i, "unit"]), int(frame.loc[i, "time"])) for i in (4, 9)]
    assert code == 2 and "'outcome' has 2 missing or infinite value(s)" in err
    assert "e.g. " + "; ".join(f"unit={u}, time={t}" for u, t in keys) in err


# --- DiD values (items 12, 19) --------------------------------------------------------------------------------


def test_true_false_treatment_equals_zero_one(capsys, tmp_path, long_panel):
    reference, _ = _att(capsys, did_csv(tmp_path, long_panel, "int.csv"))
    att, _ = _att(capsys, did_csv(tmp_path, long_panel.assign(treated=long_panel["treated"].astype(bool))))
    assert att == reference


def test_outcomes_too_large_to_square_are_refused(capsys, tmp_path, long_panel):
    huge = long_panel.assign(outcome=long_panel["outcome"] * 1e155)
    code, _, err = run(capsys, [*DID, "--data", did_csv(tmp_path, huge)])
    assert code == 2 and "Rescale the column" in err


def test_leave_one_period_out_is_finite_on_an_annual_staggered_panel():
    from bayescausal.data.panel import Panel
    from bayescausal.did.analysis import analyze

    rng = np.random.default_rng(0)
    adopt = np.r_[3, [4] * 5, [6] * 3, [99] * 6]  # one state adopts alone in year 3
    years = np.arange(8)
    treated = years[None, :] >= adopt[:, None]
    y = rng.normal(0, 5, (15, 1)) + 0.5 * years + rng.normal(0, 1, (15, 8)) + 2.0 * treated
    result = analyze(Panel(y, treated, np.arange(15), 2000 + years))
    loo = {c.name: c for c in result.checks}["leave-one-period-out stability"]
    assert np.isfinite(loo.values["min"]) and np.isfinite(loo.values["max"]) and "nan" not in loo.detail
    # dropping the lone state's first year keeps it a cohort of its own (same units and controls, one year
    # fewer), not merged into the next wave: no period changes the design here
    assert loo.values["skipped"] == 0 and loo.values["max"] > loo.values["min"]


# --- A/B (items 7, 8, 23) -------------------------------------------------------------------------------------


def _events(n=20_000, seed=0, refunds=0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["A", "B"], n)
    converted = rng.random(n) < np.where(arm == "B", 0.06, 0.05)
    revenue = np.where(converted, rng.lognormal(3, 0.8, n), 0.0)
    refunded = rng.random(n) < refunds
    revenue[refunded] = -rng.lognormal(2.5, 0.5, refunded.sum())
    return pd.DataFrame({"user": np.arange(n), "arm": arm, "converted": converted.astype(int), "revenue": revenue})


def _ab(capsys, tmp_path, frame, *extra):
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    return run(capsys, ["ab", "analyze", str(path), "--events", "--control", "A", "--json", "--no-report", *extra])


def test_arm_labels_are_stripped_and_case_clashes_refused(capsys, tmp_path):
    events = _events()
    _, clean, _ = _ab(capsys, tmp_path, events)
    spaced = events.assign(arm=np.where(np.arange(len(events)) % 3 == 0, events["arm"] + " ", events["arm"]))
    _, stripped, _ = _ab(capsys, tmp_path, spaced)
    assert stripped["estimates"] == clean["estimates"]
    clash = events.assign(arm=events["arm"].where(events.index > 10, events["arm"].str.lower()))
    code, _, err = _ab(capsys, tmp_path, clash)
    assert code == 2 and "differ only by upper/lower case" in err


def test_a_user_with_two_rows_is_refused(capsys, tmp_path):
    events = _events()
    code, _, err = _ab(capsys, tmp_path, pd.concat([events, events.iloc[[5]]]))
    assert code == 2 and "more than one row" in err


def test_revenue_without_conversion_is_flagged_and_the_trusted_field_named(capsys, tmp_path):
    events = _events()
    events.loc[events.index[events["converted"] == 1][:30], "converted"] = 0
    _, s, _ = _ab(capsys, tmp_path, events)
    check = {c["name"]: c for c in s["checks"]}["converted agrees with revenue"]
    assert not check["passed"] and check["values"]["users"] == 30
    assert "trusts revenue" in check["detail"] and "trusts converted" in check["detail"]


def test_net_revenue_with_refunds_matches_the_sample_mean(capsys, tmp_path):
    events = _events(refunds=0.01)
    code, s, err = _ab(capsys, tmp_path, events)
    assert s is not None, err
    for arm, rows in events.groupby("arm"):
        est = s["estimates"][f"revenue_per_user_{arm}"]
        assert abs(est["mean"] - rows["revenue"].mean()) < 2 * est["sd"]
    assert any("net revenue = purchases - refunds" in note for note in s["notes"])
    _, gross, _ = _ab(capsys, tmp_path, events.assign(revenue=events["revenue"].clip(lower=0)))
    assert gross["estimates"]["revenue_per_user_A"]["mean"] > s["estimates"]["revenue_per_user_A"]["mean"]


def test_negative_aggregated_revenue_without_refund_sums_is_refused():
    from bayescausal.ab.data import validate_aggregated

    frame = pd.DataFrame(
        {
            "arm": ["A", "B"],
            "visitors": [100, 100],
            "conversions": [5, 6],
            "revenue": [-3.0, 40.0],
            "revenue_sq": [90.0, 400.0],
        }
    )
    with pytest.raises(DataError, match="refund statistics"):
        validate_aggregated(frame)


# --- MMM (items 5, 9, 21, 22) ---------------------------------------------------------------------------------


def _weekly(n: int, step: str = "W-MON") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "date": pd.date_range("2020-01-06", periods=n, freq=step),
            "sales": rng.gamma(5, 20, n),
            "TV": rng.gamma(2, 10, n),
            "SEM": rng.gamma(2, 5, n),
        }
    )


def test_mmm_refuses_daily_rows_and_sums_them_into_weeks_when_asked():
    from bayescausal.data.weekly import from_frame

    daily = _weekly(30 * 7, "D")
    with pytest.raises(DataError, match="--to-weeks"):
        from_frame(daily, date="date", target="sales", channels=["TV", "SEM"])
    data = from_frame(daily, date="date", target="sales", channels=["TV", "SEM"], to_weeks=True)
    assert len(data.frame) == 30 and data.target == "sales"
    assert np.isclose(data.frame["TV"].sum(), daily["TV"].sum())
    assert (data.frame["date"].diff().dropna() == pd.Timedelta(days=7)).all()


def test_mmm_missing_weeks_are_refused_before_any_fitting(capsys, tmp_path):
    path = tmp_path / "weekly.csv"
    _weekly(60).drop(index=[20, 21]).to_csv(path, index=False)
    argv = ["mmm", "fit", "--data", str(path), "--target", "sales", "--channels", "TV,SEM", "--no-report"]
    code, _, err = run(capsys, argv)
    assert code == 2 and "2 week(s) missing" in err and "2020-05-25" in err


def test_mmm_names_the_users_target_and_states_its_true_minimum():
    from bayescausal.data.weekly import MIN_WEEKS, from_frame

    assert from_frame(_weekly(60), date="date", target="sales", channels=["TV"]).target == "sales"
    with pytest.raises(DataError, match=f"at least {MIN_WEEKS}"):
        from_frame(_weekly(12), date="date", target="sales", channels=["TV"])
    assert len(from_frame(_weekly(MIN_WEEKS), date="date", target="sales", channels=["TV"]).frame) == MIN_WEEKS


# --- BCF (items 10, 11, 16) -----------------------------------------------------------------------------------

BCF = ["bcf", "fit", "--outcome", "y", "--treatment", "z", "--covariates", "x1,x2,x3,x4,x5", "--no-report"]


def _customers(tmp_path, **changes) -> str:
    from bayescausal.simulate.bcf import hahn

    path = tmp_path / "customers.csv"
    hahn(n=300, seed=0).assign(**changes).to_csv(path, index=False)
    return str(path)


def test_bcf_constant_outcome_is_a_clear_error(capsys, tmp_path):
    code, _, err = run(capsys, [*BCF, "--data", _customers(tmp_path, y=3.0)])
    assert code == 2 and "the same (3) in every row" in err


@pytest.mark.parametrize("trim", ["0.49,0.51", "a,b", "0.05;0.95", "0.9,0.1"])
def test_bcf_trim_that_empties_an_arm_or_cannot_be_read_is_a_clear_error(capsys, tmp_path, trim):
    code, _, err = run(capsys, [*BCF, "--data", _customers(tmp_path), "--trim", trim])
    assert code == 2 and "trim" in err


def test_bcf_numeric_treatment_codes_are_named_as_they_appear():
    from bayescausal.bcf.data import prepare
    from bayescausal.simulate.bcf import hahn

    frame = hahn(n=300, seed=0)
    coded = frame.assign(z=frame["z"] * 2)
    with pytest.raises(DataError, match="--treated-value '2'"):
        prepare(coded, outcome="y", treatment="z", covariates=["x1", "x2"])
    for value in (2, "2", " 2"):
        data = prepare(coded, outcome="y", treatment="z", covariates=["x1", "x2"], treated_value=value)
        np.testing.assert_array_equal(data.z, frame["z"].to_numpy())


# --- reports (item 14) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b'{"kind":', b"[1, 2]", b'"text"', b"\x00\xff\xfe", b'{"kind": "ab"}'])
def test_report_on_a_broken_summary_is_a_clear_error(capsys, tmp_path, content):
    (tmp_path / "summary.json").write_bytes(content)
    code, _, err = run(capsys, ["report", str(tmp_path)])
    assert code == 2 and "summary" in err and "Traceback" not in err


def test_report_on_a_plain_file_or_nothing_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    for target in (tmp_path / "data.csv", tmp_path / "absent"):
        code, _, err = run(capsys, ["report", str(target)])
        assert code == 2 and err.startswith("error:")


def test_times_with_utc_offsets_across_a_daylight_saving_switch_are_read_in_utc(capsys, tmp_path, long_panel):
    """Offsets change at the switch (+00:00, then +01:00), so one column holds both: read in UTC, in order."""
    local = pd.date_range("2021-03-22 09:00", periods=12, freq="D", tz="Europe/London")  # BST from 28 March
    stamps = np.array([t.isoformat() for t in local])
    assert {s[-6:] for s in stamps} == {"+00:00", "+01:00"}
    reference, checks = _att(capsys, did_csv(tmp_path, long_panel, "int.csv"))
    relabelled = long_panel.assign(time=stamps[long_panel["time"].to_numpy()])
    att, relabelled_checks = _att(capsys, did_csv(tmp_path, relabelled))
    assert att == reference and relabelled_checks == checks
    att, _ = _att(capsys, did_csv(tmp_path, relabelled), "--time-format", "%Y-%m-%dT%H:%M:%S%z")
    assert att == reference


def test_did_unit_ids_that_mix_numbers_and_text_are_units():
    """Store 7 and store "S12" are both units (a DataFrame from two exports); 7 and "7" would be one unit typed
    two ways, and are refused with their rows."""
    from bayescausal.data.panel import from_long

    panel = simulate_panel(units=20, periods=8, cohorts=((5, 7),), seed=2).to_long()
    mixed = panel.assign(unit=[u if u % 2 else f"S{u}" for u in panel["unit"]])
    built = from_long(mixed, unit="unit", time="period", outcome="simulated spend", treated="treated")
    assert len(built.units) == 20 and "S0" in built.units and "1" in built.units
    clash = pd.concat([mixed, mixed[mixed["unit"] == 1].assign(unit="1", period=lambda f: f["period"] + 100)])
    with pytest.raises(DataError, match=r"occur as both \(index labels"):
        from_long(clash, unit="unit", time="period", outcome="simulated spend", treated="treated")
