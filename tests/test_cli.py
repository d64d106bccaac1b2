"""The command line: --help everywhere, the JSON contract, exit codes, errors that name the fix."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from bayescausal.cli import build_parser, main
from tests.conftest import assert_contract

CONTRACT_ESTIMATE = {"mean", "median", "sd", "hdi_low", "hdi_high", "hdi_prob", "prob_positive"}


@pytest.fixture
def ab_csv(tmp_path):
    path = tmp_path / "ab.csv"
    pd.DataFrame({"arm": ["A", "B", "C"], "visitors": [10_000, 10_000, 10_000], "conversions": [500, 580, 510]}).to_csv(
        path, index=False
    )
    return path


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_help_everywhere(capsys):
    for argv in (
        ["--help"],
        ["run", "--help"],
        ["ab", "--help"],
        ["ab", "analyze", "--help"],
        ["ab", "check", "--help"],
        ["ab", "simulate", "--help"],
        ["ab", "allocate", "--help"],
        ["report", "--help"],
        ["demo", "--help"],
        ["bcf", "--help"],
        ["bcf", "fit", "--help"],
        ["bcf", "target", "--help"],
        ["mmm", "--help"],
        ["mmm", "fit", "--help"],
        ["mmm", "optimize", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(argv)
        assert exc.value.code == 0
        text = capsys.readouterr().out
        assert "example" in text


def test_ab_analyze_json_contract(capsys, ab_csv, tmp_path):
    code, s = run_json(
        capsys,
        [
            "ab",
            "analyze",
            str(ab_csv),
            "--json",
            "--out",
            str(tmp_path / "rep"),
            "--value-per-conversion",
            "40",
            "--cost",
            "1000",
            "--margin",
            "0.5",
        ],
    )
    assert code == 0
    assert s["kind"] == "ab" and set(s["decision"]) >= {"action", "reason"}
    assert set(s["diagnostics"]) >= {"passed", "max_rhat", "min_ess_bulk", "min_ess_tail", "divergences"}
    for arm in ("A", "B", "C"):
        assert set(s["arms"][arm]) >= {"prob_best", "expected_loss", "posterior_mean"}
    assert sum(s["arms"][a]["prob_best"] for a in "ABC") == pytest.approx(1.0, abs=1e-9)
    assert set(s["estimates"]["lift_B"]) >= CONTRACT_ESTIMATE and set(s["estimates"]["lift_C"]) >= CONTRACT_ESTIMATE
    assert s["arms"]["A"]["posterior_mean"] == pytest.approx(501 / 10_002)
    assert s["roi"]["prob_roi_above_hurdle"] is not None
    assert s["lift_test"]["label"] == "B" and s["lift_test"]["sd"] > 0 and s["lift_test"]["exposure_unit"] == "user"
    assert set(s["inputs"]) >= {"data_fingerprint", "spec_hash", "seed"} and "pymc" in s["versions"]
    assert (tmp_path / "rep" / "index.html").exists()
    assert_contract(s)


def test_prior_flags_change_the_posterior(capsys, ab_csv):
    _, s = run_json(
        capsys, ["ab", "analyze", str(ab_csv), "--json", "--no-report", "--prior-alpha", "10", "--prior-beta", "90"]
    )
    assert s["arms"]["A"]["posterior_mean"] == pytest.approx(510 / 10_100)


def test_bad_input_exits_2_with_a_message(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"arm": ["A", "B"], "visitors": [10, 10], "conversions": [11, 2]}).to_csv(bad, index=False)
    assert main(["ab", "analyze", str(bad), "--no-report"]) == 2
    assert "'conversions' exceeds 'visitors'" in capsys.readouterr().err
    assert main(["ab", "analyze", str(tmp_path / "missing.csv")]) == 2
    assert main(["ab", "analyze", str(bad), "--col", "arm"]) == 2


def test_existing_report_needs_force(capsys, ab_csv, tmp_path):
    out = tmp_path / "rep"
    assert main(["ab", "analyze", str(ab_csv), "--out", str(out), "--segments", "none"]) == 0
    assert main(["ab", "analyze", str(ab_csv), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["ab", "analyze", str(ab_csv), "--out", str(out), "--force"]) == 0


def test_an_out_below_a_file_is_refused_before_the_analysis(capsys, ab_csv, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    for argv in (["ab", "analyze", str(ab_csv)], ["ab", "check", str(ab_csv), "--counts", "cumulative"]):
        assert main([*argv, "--out", str(blocker / "report")]) == 2
        err = capsys.readouterr().err
        assert f"{blocker} is a file, not a folder" in err and "running the analysis" not in err
    assert blocker.read_text() == "mine"


def test_a_scheduled_run_keeps_yesterdays_default_report_and_writes_beside_it(capsys, ab_csv, tmp_path, monkeypatch):
    """No --out: the second run neither fails nor replaces the first report; it writes a dated folder beside it."""
    import time

    monkeypatch.chdir(tmp_path)
    argv = ["ab", "analyze", str(ab_csv), "--segments", "none", "--json"]
    first_code, first = run_json(capsys, argv)
    before = (tmp_path / first["inputs"]["report"] / "summary.json").read_text()
    codes, reports = [], []
    for _ in range(2):
        code, again = run_json(capsys, argv)
        codes.append(code)
        reports.append(again["inputs"]["report"])
    today = time.strftime("%Y-%m-%d")
    assert first_code == 0 and codes == [0, 0]
    assert reports == [f"{first['inputs']['report']}-{today}", f"{first['inputs']['report']}-{today}-2"]
    assert (tmp_path / first["inputs"]["report"] / "summary.json").read_text() == before  # kept as it was
    assert all((tmp_path / r / "index.html").exists() for r in reports)


def test_check_exit_codes(capsys, tmp_path):
    rows = []
    for day in range(1, 11):
        rows += [
            {"day": day, "arm": "A", "visitors": 3000 * day, "conversions": 150 * day},
            {"day": day, "arm": "B", "visitors": 3000 * day, "conversions": 195 * day},
        ]
    path = tmp_path / "daily.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    code, s = run_json(capsys, ["ab", "check", str(path), "--counts", "cumulative", "--json", "--no-report"])
    assert code == 0 and s["decision"]["action"] == "ship B" and s["exit_code"] == 0
    code, s = run_json(
        capsys, ["ab", "check", str(path), "--counts", "cumulative", "--json", "--no-report", "--min-days", "20"]
    )
    assert code == 4 and s["decision"]["action"] == "continue"
    code, s = run_json(
        capsys, ["ab", "check", str(path), "--counts", "cumulative", "--json", "--no-report", "--allocation", "0.6,0.4"]
    )
    assert code == 5


def test_simulate_and_allocate(capsys, ab_csv):
    code, s = run_json(
        capsys, ["ab", "simulate", "--sims", "50", "--days", "10", "--lifts=0,0.1", "--json", "--no-report"]
    )
    assert code == 0 and len(s["operating_characteristics"]) == 4
    code, s = run_json(capsys, ["ab", "allocate", str(ab_csv), "--json", "--no-report", "--floor", "0.05"])
    assert code == 0 and sum(s["allocation"].values()) == pytest.approx(1.0) and min(s["allocation"].values()) >= 0.05


@pytest.mark.slow
def test_run_spec_that_does_not_converge_exits_3_with_banner(capsys, tmp_path):
    spec = tmp_path / "broken.toml"
    out = tmp_path / "broken"
    spec.write_text(f"""
kind = "ab"
name = "broken"
[data]
dataset = "simulated-ab"
[sampler]
draws = 30
tune = 10
chains = 2
[output]
dir = "{out}"
""")
    assert main(["run", str(spec)]) == 3
    assert "NOT CONVERGED" in capsys.readouterr().err
    page = (out / "index.html").read_text()
    assert "class='banner'>NOT CONVERGED" in page
    assert json.loads((out / "summary.json").read_text())["diagnostics"]["passed"] is False
    assert main(["run", str(spec), "--force", "--allow-unconverged", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["diagnostics"]["passed"] is False


def test_report_command_and_module_entry(capsys, ab_csv, tmp_path):
    main(["ab", "analyze", str(ab_csv), "--out", str(tmp_path / "r")])
    capsys.readouterr()
    assert main(["report", str(tmp_path / "r")]) == 0
    assert "Decision:" in capsys.readouterr().out
    proc = subprocess.run([sys.executable, "-m", "bayescausal", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "bayescausal" in proc.stdout


def test_did_fit_generic_panel_json_contract(capsys, tmp_path):
    from bayescausal.simulate.did import simulate_panel

    # enough units that the pre-period can see a trend large enough to explain the effect (the power check)
    panel = simulate_panel(units=2000, periods=20, effect=2.0, cohorts=((10, 14), (14, 19)), seed=4)
    path = tmp_path / "panel.csv"
    panel.to_long().rename(columns={"simulated spend": "spend"}).to_csv(path, index=False)
    argv = [
        "did",
        "fit",
        "--data",
        str(path),
        "--unit",
        "unit",
        "--time",
        "period",
        "--outcome",
        "spend",
        "--treated",
        "treated",
        "--json",
        "--no-report",
        "--cost",
        "500",
        "--margin",
        "0.5",
    ]
    code, s = run_json(capsys, argv)
    assert code == 0 and s["kind"] == "did"
    assert set(s["estimates"]["att"]) >= CONTRACT_ESTIMATE
    assert {k for k in s["estimates"] if k.startswith("att_cohort_")} == {"att_cohort_10-14", "att_cohort_14-19"}
    assert s["roi"]["prob_roi_above_hurdle"] is not None and s["lift_test"]["exposure"] > 0
    assert_contract(s)
    assert main(["did", "fit", "--json", "--no-report"]) == 2  # neither --data nor --campaign
    assert "exactly one of --data" in capsys.readouterr().err


def test_did_event_study_on_complete_journey(capsys, tmp_path):
    code = main(["did", "event-study", "--campaign", "18", "--out", str(tmp_path / "cj"), "--no-refutations"])
    out = capsys.readouterr().out
    assert code == 0 and "Event study:" in out and "Decision:" in out
    assert (tmp_path / "cj" / "index.html").exists()


def test_every_declared_flag_reaches_the_options():
    """A flag is derived from its option, so it cannot be parsed and then dropped (mmm --identifiability was)."""
    from bayescausal.cli import _spec_from_args
    from bayescausal.family import get
    from bayescausal.runner import options_for

    argv = ["mmm", "fit", "--data-dir", "dt", "--identifiability", "--no-sensitivity", "--bounds", "0.8,1.2"]
    argv += ["--budget", "5", "--margin", "0.2", "--draws", "50", "--seed", "9"]
    args = build_parser().parse_args(argv)
    spec, _ = _spec_from_args(get("mmm"), get("mmm").command("fit"), args)
    opt = options_for(spec)
    assert opt.identifiability and not opt.spread_sensitivity and opt.budget_bounds == (0.8, 1.2)
    assert (opt.total_budget, opt.margin_rate, opt.sampler.draws, opt.sampler.seed) == (5.0, 0.2, 50, 9)
    assert opt.sampler.tune == 1000  # the family's default, the same for the CLI and a spec without [sampler]
    ab = build_parser().parse_args(["ab", "analyze", "x.csv", "--absolute-threshold", "--srm-alpha", "0.01"])
    spec, _ = _spec_from_args(get("ab"), get("ab").command("analyze"), ab)
    assert options_for(spec).srm_alpha == 0.01 and not options_for(spec).threshold_relative


def test_business_keys_a_family_does_not_use_are_refused():
    from bayescausal.errors import SpecError
    from bayescausal.spec import parse_spec

    for kind, data in (("bcf", {"dataset": "simulated-discount"}), ("mmm", {"dataset": "simulated-dtmart"})):
        for key in ("cost", "threshold"):
            with pytest.raises(SpecError, match=f"unknown key '{key}' in \\[business\\]"):
                parse_spec({"kind": kind, "name": "t", "data": data, "business": {key: 1.0}})


def test_every_negated_flag_says_it_skips_what_the_option_does():
    """`--no-placebo` must not read "refit with the treatment permuted": its help says it skips that."""
    parser = build_parser()
    seen = 0
    for family in parser._subparsers._group_actions[0].choices.values():
        sub = family._subparsers._group_actions[0].choices if family._subparsers else {}
        for command in sub.values():
            for action in command._actions:
                negations = [s for s in action.option_strings if s.startswith("--no-") and s != "--no-report"]
                if negations:
                    seen += 1
                    assert action.help.startswith("skip (on by default): "), (negations, action.help)
    assert seen >= 4  # --no-placebo, --no-refutations, --no-pooled, --no-sensitivity at least


def test_report_lists_a_folder_of_reports(capsys, ab_csv, tmp_path):
    """`bayescausal report reports/demo` on the demo's folder lists its reports, verdict first."""
    for name in ("first", "second"):
        assert main(["ab", "analyze", str(ab_csv), "--segments", "none", "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 reports in" in out and "  first: " in out and "  second: " in out


def test_a_second_bare_demo_keeps_the_first_and_says_what_is_undecided(capsys, tmp_path, monkeypatch):
    """The first example in the help must work every day: the second run writes beside the first."""
    import bayescausal.demo as demo

    def fake_demo(out, *, force=False, progress=print):
        assert force or not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        for name, verdict in (("a", "act"), ("b", "inconclusive")):
            (out / name).mkdir(exist_ok=True)
            summary = {"kind": "ab", "title": name, "estimates": {}, "diagnostics": {"passed": True}}
            summary["decision"] = {"verdict": verdict, "action": "x", "reason": "y"}
            (out / name / "summary.json").write_text(json.dumps(summary))
        (out / "index.html").write_text("<html></html>")
        return out / "index.html"

    monkeypatch.setattr(demo, "run_demo", fake_demo)
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "2 reports: 1 decided, 1 not: b (inconclusive)" in out
    assert (tmp_path / "reports" / "demo").is_dir() and len(list((tmp_path / "reports").glob("demo-*"))) == 1


def test_each_command_shows_the_exit_codes_it_can_return_and_the_top_level_lists_every_command(capsys):
    def help_of(*argv) -> str:
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        return capsys.readouterr().out

    check = help_of("ab", "check").split("exit codes:")[1]
    assert "\n  4  " in check and "\n  5  " in check and "\n  3  " not in check and "\n  6  " not in check
    fit = help_of("did", "fit").split("exit codes:")[1]
    assert "\n  6  " in fit and "\n  4  " not in fit and "ab check" not in fit
    top = help_of()
    assert "(analyze, check, simulate, plan, allocate)" in top  # derived from the commands, so none is left out
