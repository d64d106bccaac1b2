import numpy as np
import pytest

from bayescausal.diagnostics import Thresholds, diagnose, ppc_flagged, ppc_pvalues
from bayescausal.sampling import SamplerSettings, sample


def funnel():
    import pymc as pm

    with pm.Model() as model:  # Neal's funnel, centred: the classic geometry NUTS cannot mix on quickly
        log_scale = pm.Normal("log_scale", 0.0, 3.0)
        pm.Normal("x", 0.0, pm.math.exp(log_scale / 2), shape=5)
    return model


@pytest.mark.slow
def test_a_too_short_funnel_fit_fails_the_gate():
    idata = sample(funnel(), SamplerSettings(draws=40, tune=20, chains=2, seed=3))
    verdict = diagnose(idata, ["log_scale", "x"])
    assert not verdict.passed
    assert verdict.max_rhat > 1.01
    assert any("R-hat" in p for p in verdict.problems) and any("ESS" in p for p in verdict.problems)
    assert set(verdict.table.columns) >= {"parameter", "r_hat", "ess_bulk", "ess_tail"}
    assert len(verdict.table) == 6  # every element of every variable
    d = verdict.to_dict()
    assert d["passed"] is False and d["divergences"] is not None and "min_ess_tail" in d
    lenient = diagnose(
        idata,
        ["log_scale", "x"],
        Thresholds(max_rhat=10, min_ess=1, max_divergences=10_000, min_bfmi=0, max_treedepth_fraction=1),
    )
    assert lenient.passed


def test_ppc_pvalues_and_flags():
    rng = np.random.default_rng(0)
    rep = {"mean": rng.normal(0, 1, 4000), "sd": rng.normal(1, 0.1, 4000)}
    pv = ppc_pvalues({"mean": 0.1, "sd": 5.0}, rep)
    assert 0.3 < pv["mean"] < 0.7 and pv["sd"] == 0.0
    assert ppc_flagged(pv) == ["sd"]


def test_constant_quantities_do_not_enter_the_gate():
    """A quantity with the same value in every draw (the profit of a policy that treats nobody) has no R-hat
    (0/0); it is shown as not gating, and the gate reads the quantities that moved."""
    import xarray as xr

    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {"moving": (("chain", "draw"), rng.normal(size=(4, 500))), "profit": (("chain", "draw"), np.zeros((4, 500)))}
    )
    d = diagnose(xr.DataTree.from_dict({"posterior": posterior}), ["moving", "profit"])
    assert d.passed and d.max_rhat < 1.01, d.problems
    row = d.table.set_index("parameter").loc["profit"]
    assert not row["gates"] and "nothing to converge" in row["note"] and np.isnan(row["r_hat"])
    only_constant = diagnose(xr.DataTree.from_dict({"posterior": posterior}), ["profit"])
    assert only_constant.passed and not only_constant.problems
