import pytest

from bayescausal.errors import SpecError
from bayescausal.spec import load_spec, parse_spec

GOOD = {"kind": "ab", "name": "t", "data": {"dataset": "simulated-ab"}}


def test_good_spec_and_stable_hash():
    a = parse_spec(GOOD)
    b = parse_spec(dict(GOOD))
    assert a.hash == b.hash and a.hash.startswith("sha256:")
    assert parse_spec(GOOD | {"sampler": {"seed": 2}}).hash != a.hash
    assert str(a.out_dir) == "reports/t"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (GOOD | {"colour": "red"}, "unknown key 'colour' in the spec"),
        (GOOD | {"sampler": {"draws": "many"}}, r"\[sampler\].draws: expected int, got str"),
        (GOOD | {"sampler": {"chians": 4}}, "unknown key 'chians' in \\[sampler\\]"),
        (GOOD | {"sampler": {"draws": True}}, "expected int, got bool"),
        (GOOD | {"model": {"prior_alpha": "1"}}, r"\[model\].prior_alpha: expected number"),
        (GOOD | {"model": {"segmnets": "none"}}, "unknown key 'segmnets' in \\[model\\]"),
        (GOOD | {"business": {"margin": 0.3}}, "unknown key 'margin' in \\[business\\]"),
        (GOOD | {"columns": {"arm": 3}}, r"\[columns\].arm: expected str"),
        ({"name": "t", "data": {"dataset": "x"}}, "needs a top-level 'kind'"),
        (GOOD | {"kind": "xyz"}, "kind 'xyz' is not one of"),
        (GOOD | {"data": {}}, "exactly one of 'path'"),
        (GOOD | {"data": {"path": "a.csv", "dataset": "b"}}, "exactly one of 'path'"),
        (GOOD | {"data": {"path": "a.csv", "format": "wide"}}, "format must be"),
        (GOOD | {"diagnostics": {"max_rhat": "1.01"}}, r"\[diagnostics\].max_rhat: expected number"),
    ],
)
def test_spec_errors_name_the_key(raw, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(raw)


def test_load_spec_reports_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("kind = 'ab'\nname = \n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "missing.toml")


def test_option_values_are_validated_when_built():
    from bayescausal.runner import options_for as ab_options

    with pytest.raises(SpecError, match=r"\[model\].segments must be one of logit-normal"):
        parse_spec(GOOD | {"model": {"segments": "deep"}})
    with pytest.raises(SpecError, match="margin_rate must be in"):
        ab_options(parse_spec(GOOD | {"business": {"margin_rate": 1.5}}))
    with pytest.raises(SpecError, match="probability"):
        ab_options(parse_spec(GOOD | {"business": {"min_prob_positive": 2.0}}))


def test_diagnostics_thresholds_and_monte_carlo_option_reach_the_analysis():
    from bayescausal.runner import options_for, run

    spec = parse_spec(
        GOOD
        | {
            "model": {"segments": "none", "monte_carlo_check": True, "monte_carlo_draws": 50_000},
            "diagnostics": {"max_rhat": 1.05, "min_ess": 100},
        }
    )
    options = options_for(spec)
    assert options.thresholds.max_rhat == 1.05 and options.thresholds.min_ess == 100
    result = run(spec)
    for arm in result.extra["arms"].values():
        assert abs(arm["mc_prob_best"] - arm["prob_best"]) < 5 * arm["mc_prob_best_mcse"] + 1e-9


def test_a_relative_data_path_is_relative_to_the_spec_file_and_recorded_absolute(tmp_path, monkeypatch, capsys):
    """A scheduled job started in another folder must read the spec's file, not a stale one of the same name
    where it runs; the report records the absolute path it read."""
    import json

    import pandas as pd

    from bayescausal.cli import main

    project = tmp_path / "project"
    project.mkdir()
    pd.DataFrame({"arm": ["A", "B"], "visitors": [1000, 1000], "conversions": [50, 70]}).to_csv(project / "t.csv")
    (project / "spec.toml").write_text('kind = "ab"\nname = "t"\n[data]\npath = "t.csv"\n[model]\ncontrol = "A"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pd.DataFrame({"arm": ["A", "B"], "visitors": [10, 10], "conversions": [5, 1]}).to_csv(elsewhere / "t.csv")
    monkeypatch.chdir(elsewhere)
    spec = load_spec(project / "spec.toml")
    assert spec.data["path"] == str((project / "t.csv").resolve())
    assert main(["run", str(project / "spec.toml"), "--json", "--no-report"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["arms"]["B"]["visitors"] == 1000  # the spec's file, not the stale one here
    assert str((project / "t.csv").resolve()) in json.dumps(summary["inputs"])
