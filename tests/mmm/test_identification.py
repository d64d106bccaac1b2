"""Identification per channel (issue #29): from the spend design alone, and after a fit on weekly sales written
here (not the package's simulator): channels that move on their own are recovered and labelled identified; a
near-constant channel and a pair that move in lockstep are not, and the plan never moves them."""

import warnings

import numpy as np
import pandas as pd
import pytest

from bayescausal.data.weekly import MMMData
from bayescausal.mmm.identification import spend_design
from bayescausal.mmm.options import MMMOptions
from bayescausal.sampling import SamplerSettings

WEEKS = 104
BETA = {"Search": 2500.0, "Social": 2000.0, "Billboards": 1500.0, "Radio": 1200.0, "Podcasts": 1200.0}


def _spend(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shared = rng.gamma(3.0, 300.0, WEEKS)
    return pd.DataFrame(
        {
            "Search": rng.gamma(3.0, 300.0, WEEKS),  # weekly, independent
            "Social": rng.gamma(3.0, 200.0, WEEKS),  # weekly, independent
            "Billboards": 1000.0 * (1 + 0.002 * rng.standard_normal(WEEKS)),  # a flat contract
            "Radio": shared,  # bought together with podcasts, always in the same proportion
            "Podcasts": 0.5 * shared * (1 + 0.001 * rng.standard_normal(WEEKS)),
        },
        index=pd.date_range("2022-01-03", periods=WEEKS, freq="W-MON"),
    )


def _sales(spend: pd.DataFrame, seed: int = 4) -> tuple[pd.Series, dict]:
    """Geometric carry-over (0.3) and a gently concave response per channel (spend stays well below
    saturation, so the return per unit is learnable from the weeks' variation); true ROAS = contribution/spend."""
    rng = np.random.default_rng(seed)
    total, roas = 20_000.0 + 500 * np.sin(np.arange(WEEKS) / 8), {}
    for c, beta in BETA.items():
        x = spend[c].to_numpy()
        carried = np.array([sum(0.3**k * x[t - k] for k in range(min(t, 3) + 1)) for t in range(WEEKS)])
        contribution = beta * (1 - np.exp(-carried / (4 * x.mean())))
        roas[c] = contribution.sum() / x.sum()
        total = total + contribution
    return pd.Series(total + rng.normal(0, 150, WEEKS), index=spend.index), roas


def test_the_spend_design_alone_flags_flat_and_lockstep_channels():
    spend = _spend()
    labels = {d.channel: d.label for d in spend_design(spend, pd.Series(spend.index))}
    assert labels == {
        "Search": "identified",
        "Social": "identified",
        "Billboards": "not identified",
        "Radio": "not identified",
        "Podcasts": "not identified",
    }


@pytest.mark.slow
def test_a_fit_labels_every_channel_recovers_the_identified_ones_and_the_plan_moves_only_them():
    from bayescausal.mmm.analysis import analyze

    spend = _spend()
    sales, truth = _sales(spend)
    frame = spend.assign(sales=sales).rename_axis("date").reset_index()
    data = MMMData(frame=frame, channels=list(BETA), controls=[], target="sales")
    options = MMMOptions(sampler=SamplerSettings(draws=500, tune=700, chains=2, seed=2), holdout_weeks=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = analyze(data, options)
    labels = {c: v["label"] for c, v in result.extra["identification"].items()}
    assert labels["Search"] == labels["Social"] == "identified", result.extra["identification"]
    assert {labels[c] for c in ("Billboards", "Radio", "Podcasts")} <= {"not identified", "weakly identified"}
    for c in ("Search", "Social"):
        est = result.estimates[f"roas_{c}"]
        assert est.hdi_low <= truth[c] <= est.hdi_high, (c, truth[c], est)
    plan = next(t for name, t in result.tables.items() if name.startswith("budget plan"))
    held = plan[~plan["moves"]]
    assert set(held["channel"]) == {"Billboards", "Radio", "Podcasts"}
    assert np.allclose(held["optimised per week"], held["current per week"], rtol=1e-6)
    roas_table = result.tables["ROAS and marginal ROAS by channel"]
    assert list(roas_table["identification"]) == [labels[c] for c in BETA]
