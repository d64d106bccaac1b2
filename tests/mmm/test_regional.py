"""Regional marketing mix: each region buys its own media, so a channel's ROAS is its total contribution over
its total spend across regions (not the sum of the regions' ROAS), and each region's ROAS is published too.

The simulator is written here, independent of the package's: per-region weekly spend, normalised geometric
adstock and logistic saturation on spend scaled by the channel's largest week, a baseline per region."""

import warnings

import numpy as np
import pandas as pd
import pytest

from bayescausal.data.weekly import from_frame
from bayescausal.errors import DataError

CHANNELS = ["tv", "search", "social"]
TRUE_ROAS = {"tv": 2.0, "search": 3.0, "social": 1.0}
REGIONS = {"north": 1.0, "south": 0.45}  # spend level of each region
ALPHA = {"tv": 0.5, "search": 0.2, "social": 0.35}
LAM = {"tv": 1.0, "search": 1.5, "social": 0.8}
L_MAX = 4


def _adstock(x: np.ndarray, alpha: float) -> np.ndarray:
    w = alpha ** np.arange(L_MAX)
    w = w / w.sum()
    return np.convolve(x, w)[: len(x)]


def _saturate(x: np.ndarray, lam: float) -> np.ndarray:
    return (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))


def regional_panel(weeks: int = 104, seed: int = 3):
    """(frame, pooled truth, per-region truth): spend differs by region and week; one beta per channel, scaled
    so that the pooled ROAS (total contribution / total spend) is exactly TRUE_ROAS."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=weeks, freq="7D")
    spend = {
        (g, c): level * rng.gamma(4.0, 25.0, weeks) * (1 + 0.5 * (c == "search"))
        for g, level in REGIONS.items()
        for c in CHANNELS
    }
    scale = {c: max(spend[g, c].max() for g in REGIONS) for c in CHANNELS}
    shape = {k: _saturate(_adstock(x, ALPHA[k[1]]) / scale[k[1]], LAM[k[1]]) for k, x in spend.items()}
    beta = {
        c: TRUE_ROAS[c] * sum(spend[g, c].sum() for g in REGIONS) / sum(shape[g, c].sum() for g in REGIONS)
        for c in CHANNELS
    }
    rows, region_truth = [], {}
    for g, level in REGIONS.items():
        contribution = {c: beta[c] * shape[g, c] for c in CHANNELS}
        region_truth |= {(g, c): contribution[c].sum() / spend[g, c].sum() for c in CHANNELS}
        baseline = 900.0 * level + 40 * np.sin(2 * np.pi * np.arange(weeks) / 52)
        sales = baseline + sum(contribution.values()) + rng.normal(0, 15.0 * level, weeks)
        rows.append(pd.DataFrame({"week": dates, "region": g, "sales": sales} | {c: spend[g, c] for c in CHANNELS}))
    return pd.concat(rows, ignore_index=True), dict(TRUE_ROAS), region_truth


def test_spend_is_summed_over_regions_and_counted_once_for_national_media():
    frame, _, _ = regional_panel(weeks=30)
    data = from_frame(frame, date="week", target="sales", channels=CHANNELS, group="region")
    assert data.regional_spend
    totals = data.spend_by_week()
    assert np.allclose(totals.to_numpy(), frame.groupby("week")[CHANNELS].sum().to_numpy())
    national = frame.copy()
    for c in CHANNELS:  # every product group sees the same national spend
        national[c] = national.groupby("week")[c].transform("first")
    shared = from_frame(national, date="week", target="sales", channels=CHANNELS, group="region")
    assert not shared.regional_spend
    assert np.allclose(shared.spend_by_week().to_numpy(), national.groupby("week")[CHANNELS].first().to_numpy())


def test_pooled_ratio_is_total_contribution_over_total_spend():
    import xarray as xr

    from bayescausal.mmm.analysis import pooled_ratio

    spend = pd.DataFrame({"tv": [100.0, 50.0]}, index=pd.Index(["north", "south"], name="group"))
    roas = xr.DataArray(
        [[[[2.0], [2.0]]]], dims=("chain", "draw", "group", "channel"), coords={"group": ["north", "south"]}
    ).assign_coords(channel=["tv"])
    assert float(pooled_ratio(roas, spend, regional=True).squeeze()) == pytest.approx(2.0)
    # national spend: each group's ROAS is its sales per unit of the one national spend, so they add
    shared = pd.DataFrame({"tv": [100.0, 100.0]}, index=spend.index)
    assert float(pooled_ratio(roas, shared, regional=False).squeeze()) == pytest.approx(4.0)


def test_regions_on_different_weeks_are_refused_before_fitting():
    frame, _, _ = regional_panel(weeks=40)
    late = frame[~((frame["region"] == "south") & (frame["week"] < "2022-03-07"))]
    with pytest.raises(
        DataError, match=r"cover different weeks.*south: 2022-03-07 to .*keep the weeks from 2022-03-07"
    ):
        from_frame(late, date="week", target="sales", channels=CHANNELS, group="region")


def test_rows_are_named_for_negative_spend_and_duplicated_weeks():
    frame, _, _ = regional_panel(weeks=30)
    bad = frame.copy()
    bad.loc[5, "tv"] = -3.0
    with pytest.raises(
        DataError, match=r"negative spend in \['tv'\] at index labels 5: \(week=2022-02-07.*region=north\)"
    ):
        from_frame(bad, date="week", target="sales", channels=CHANNELS, group="region")
    bad.attrs["rows_are"] = "csv"  # as read from a CSV file (data.io): the rows are named by their file line
    with pytest.raises(DataError, match=r"negative spend in \['tv'\] at file lines 7: \(week=2022-02-07"):
        from_frame(bad, date="week", target="sales", channels=CHANNELS, group="region")
    dup = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)
    with pytest.raises(
        DataError, match=r"duplicated rows .* index labels 3, 60: \(week=2022-01-24.*\); \(week=2022-01-24"
    ):
        from_frame(dup, date="week", target="sales", channels=CHANNELS, group="region")


@pytest.mark.slow
def test_regional_fit_recovers_pooled_and_per_region_roas():
    from bayescausal.mmm.analysis import analyze
    from bayescausal.mmm.options import MMMOptions
    from bayescausal.sampling import SamplerSettings

    frame, pooled, by_region = regional_panel()
    data = from_frame(frame, date="week", target="sales", channels=CHANNELS, group="region")
    opt = MMMOptions(
        sampler=SamplerSettings(draws=400, tune=500, chains=2, seed=1),
        holdout_weeks=0,
        yearly_seasonality=2,
        response_points=(0.0, 1.0, 1.5),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = analyze(data, opt)
    for c in CHANNELS:
        est = result.estimates[f"roas_{c}"]
        assert est.hdi_low <= pooled[c] <= est.hdi_high, (c, pooled[c], est)
        # the sum of the regions' ROAS (the old answer) lies far outside
        assert not est.hdi_low <= 2 * pooled[c] <= est.hdi_high
    covered = [
        result.estimates[f"roas_{c}:{g}"].hdi_low <= truth <= result.estimates[f"roas_{c}:{g}"].hdi_high
        for (g, c), truth in by_region.items()
    ]
    assert sum(covered) >= len(covered) - 1, covered
    plan = next(t for k, t in result.tables.items() if k.startswith("budget plan")).set_index("channel")
    current = frame.groupby("week")[CHANNELS].sum().mean()  # total weekly spend over both regions
    assert np.allclose(plan["current per week"].reindex(CHANNELS), current, rtol=1e-9)
