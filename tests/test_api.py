"""The public API: a DataFrame or a path in, the same options as the CLI and the specs, a Result out."""

import pandas as pd
import pytest

import bayescausal.ab as ab
import bayescausal.did as did
from bayescausal.errors import SpecError


@pytest.fixture
def counts():
    return pd.DataFrame({"variant": ["A", "B"], "users": [10_000, 10_000], "conversions": [500, 580]})


def test_dataframe_and_path_give_the_same_answer(counts, tmp_path):
    from_frame = ab.analyze(counts, columns={"arm": "variant", "visitors": "users"}, control="A")
    path = tmp_path / "ab.csv"
    counts.to_csv(path, index=False)
    from_path = ab.analyze(str(path), columns={"arm": "variant", "visitors": "users"}, control="A")
    assert from_frame.estimates["lift_B"] == from_path.estimates["lift_B"]
    assert from_frame.inputs["data_fingerprint"] == from_path.inputs["data_fingerprint"]
    assert from_frame.verdict == "act" and from_frame.decision.action == "ship B"
    assert "DataFrame" in from_frame.inputs["data"] and from_path.inputs["data"] == str(path)


def test_unknown_options_are_errors_that_list_the_allowed(counts):
    with pytest.raises(SpecError, match="unknown option 'prior' for analyze; allowed: .*prior_alpha"):
        ab.analyze(counts, prior=3)
    with pytest.raises(SpecError, match="segments must be one of"):
        ab.analyze(counts, segments="deep")


def test_did_fit_on_a_frame_with_column_names():
    from bayescausal.simulate.did import simulate_panel

    long = simulate_panel(units=150, periods=16, effect=2.0, cohorts=((10, 15),), seed=2).to_long()
    long = long.rename(columns={"unit": "store", "period": "week", "simulated spend": "sales", "treated": "promo"})
    r = did.fit(long, unit="store", time="week", outcome="sales", treated="promo", leads=4, margin_rate=0.5)
    assert r.kind == "did" and r.estimates["att"].hdi_low < 2.0 < r.estimates["att"].hdi_high
    assert r.lift_test.exposure_unit == "treated unit-period" and r.inputs["seed"] == 0
    assert "leads = 8" in did.fit.__doc__ and r.summary().startswith("Difference-in-differences")


def test_families_on_the_package_with_real_signatures_and_a_short_repr():
    """`import bayescausal as bc; bc.ab.analyze(...)` works, stays lazy, and a notebook sees the options."""
    import inspect
    import subprocess
    import sys

    import bayescausal as bc

    lazy = "import bayescausal, sys; assert 'pymc' not in sys.modules and 'bayescausal.ab' not in sys.modules"
    subprocess.run([sys.executable, "-c", lazy], check=True)
    params = inspect.signature(bc.ab.analyze).parameters
    assert params["control"].default is None and params["segments"].default == "logit-normal"
    assert list(params)[0] == "data" and params["data"].kind is inspect.Parameter.POSITIONAL_ONLY
    result = bc.ab.analyze(dataset="simulated-ab", control="control", segments="none")
    assert repr(result).startswith("<Result ab: ") and len(repr(result)) < 200
    html = result._repr_html_()
    assert result.decision.action in html and "<table" in html
    with pytest.raises(AttributeError):
        bc.not_a_family  # noqa: B018
