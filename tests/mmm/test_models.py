"""MMM against known truth (small fits): ROAS recovery, contribution shares, calibration, CLI contract."""

import json
import warnings

import numpy as np
import pytest

from bayescausal.data.weekly import MMMData
from bayescausal.mmm.analysis import channel_roas, contributions
from bayescausal.mmm.model import fit
from bayescausal.mmm.options import MMMOptions
from bayescausal.sampling import SamplerSettings
from bayescausal.simulate.mmm import simulate, true_lift
from tests.conftest import assert_contract

pytestmark = pytest.mark.slow
CHANNELS = ["TV", "Sponsorship", "OnlineMarketing", "SEM"]
SMALL = MMMOptions(sampler=SamplerSettings(draws=300, tune=400, chains=2, seed=4), holdout_weeks=0)


@pytest.fixture(scope="module")
def sim():
    frame, truth = simulate(104, channels=CHANNELS, seed=22)
    return MMMData(frame=frame, channels=CHANNELS, controls=["sale_event", "trend"]), truth


@pytest.fixture(scope="module")
def fitted(sim):
    data, _ = sim
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(data, SMALL)[0]


def test_roas_intervals_cover_truth_and_shares_recovered(sim, fitted):
    _, truth = sim
    roas, mroas = channel_roas(fitted)
    covered = []
    for c in CHANNELS:
        lo, hi = np.quantile(roas.sel(channel=c).values, [0.03, 0.97])
        covered.append(lo <= truth.roas[c] <= hi)
    assert sum(covered) >= len(CHANNELS) - 1, covered
    contrib = contributions(fitted).sum("date")
    shares = (contrib / contrib.sum("channel")).mean(("chain", "draw"))
    for c in CHANNELS:
        assert abs(float(shares.sel(channel=c)) - truth.share[c]) < 0.15, (c, float(shares.sel(channel=c)))
    # saturation: the marginal return never exceeds the average return
    assert (mroas.mean(("chain", "draw")) <= roas.mean(("chain", "draw")) * 1.05).all()


def test_response_curves_rise_and_saturate(fitted):
    from bayescausal.mmm.analysis import response_curves

    curves = response_curves(fitted, (0.0, 0.5, 1.0, 1.5, 2.0), num_samples=100)
    curves = curves.mean([d for d in curves.dims if d not in ("channel", "multiplier")])
    curves = curves.transpose("channel", "multiplier").values
    assert np.allclose(curves[:, 0], 0.0, atol=1e-9)
    assert (np.diff(curves, axis=1) > 0).all()  # more spend, more contribution
    steps = np.diff(curves, axis=1)
    assert (steps[:, -1] <= steps[:, 0] + 1e-9).all()  # diminishing returns


def test_lift_test_tightens_and_moves_roas(sim, fitted):
    data, truth = sim
    channel = "TV"
    x = float(data.frame[channel].mean())
    # a geo test that doubled TV spend: it pins down the curve over the range the data live in
    lift = {"channel": channel, "x": x, "delta_x": x, "delta_y": float(true_lift(truth, channel, x, x))}
    lift["sigma"] = abs(lift["delta_y"]) * 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calibrated = fit(data, SMALL, lift_tests=(lift,))[0]
    before = channel_roas(fitted)[0].sel(channel=channel).values.ravel()
    after = channel_roas(calibrated)[0].sel(channel=channel).values.ravel()
    width = lambda d: np.subtract(*np.quantile(d, [0.97, 0.03]))  # noqa: E731
    assert width(after) < 0.8 * width(before)
    assert abs(after.mean() - truth.roas[channel]) <= abs(before.mean() - truth.roas[channel]) + 0.05


def test_cli_contract_on_the_dtmart_layout(tmp_path, capsys):
    from bayescausal.cli import main
    from tests.mmm.conftest import write_dtmart

    folder = write_dtmart(tmp_path / "dt")
    argv = ["mmm", "fit", "--data-dir", str(folder), "--json", "--draws", "150", "--tune", "200", "--chains", "2"]
    argv += ["--holdout-weeks", "0", "--no-sensitivity", "--out", str(tmp_path / "rep"), "--allow-unconverged"]
    argv += ["--identifiability"]
    code = main(argv)
    summary = json.loads(capsys.readouterr().out)
    assert code in (0, 6)  # 6: the identifiability check (gating) fails on this small simulated design
    channels = ["TV", "Digital", "Sponsorship", "ContentMarketing", "OnlineMarketing", "Affiliates", "SEM", "Radio"]
    for c in channels:
        assert np.isfinite(summary["estimates"][f"roas_{c}"]["mean"])
    decision = summary["decision"]
    rule_action = decision["criteria"].get("rule_action", decision["action"])
    assert rule_action in ("reallocate the budget to the optimised plan", "keep the current plan")
    gating_failed = any(c["gating"] and not c["passed"] for c in summary["checks"])
    assert (decision["verdict"] == "inconclusive") == (not summary["diagnostics"]["passed"] or gating_failed)
    assert "identifiability of ROAS on this spend design" in {c["name"] for c in summary["checks"]}
    assert_contract(summary)
    assert (tmp_path / "rep" / "index.html").exists()


def test_real_dtmart_fit_publishes_every_channel():
    from bayescausal.data.weekly import load_dtmart
    from tests.conftest import shared_file

    folder = shared_file("dtmart", "MediaInvestment.csv").parent
    data = load_dtmart(folder, groups=["CameraAccessory", "GamingAccessory", "HomeAudio"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mmm = fit(data, MMMOptions(sampler=SamplerSettings(draws=150, tune=300, chains=2, seed=1)))[0]
    roas, _ = channel_roas(mmm, data)
    assert list(roas["channel"].values) == data.channels
    assert np.isfinite(roas.values).all() and (roas.values >= 0).all()
    weekly = contributions(mmm)  # summed over the product groups, still weekly
    assert set(weekly.dims) == {"chain", "draw", "date", "channel"} and weekly.sizes["date"] == 51
