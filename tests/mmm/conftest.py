"""Small files in the real DT-Mart layout, written by the tests (the real data cannot ship)."""

import numpy as np
import pandas as pd
import pytest

CHANNELS_RAW = ["TV", "Digital", "Sponsorship", "Content Marketing", "Online marketing", " Affiliates", "SEM", "Radio"]


def write_dtmart(folder, *, months: int = 12, seed: int = 0, weekly: bool = True, tweak=None):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    periods = pd.period_range("2015-07", periods=months, freq="M")
    media = pd.DataFrame({"Year": periods.year, "Month": periods.month})
    spend = rng.gamma(2.0, 2.0, (months, len(CHANNELS_RAW))).round(1)
    for k, c in enumerate(CHANNELS_RAW):
        media[c] = spend[:, k]
    media["Radio"] = np.where(np.arange(months) % 3 == 0, media["Radio"], np.nan)  # blanks = no spend
    media.insert(2, "Total Investment", np.nansum(spend, axis=1).round(1))
    if tweak:
        media = tweak(media)
    media.to_csv(folder / "MediaInvestment.csv", index=False)
    days = pd.date_range(periods[0].start_time, periods[-1].end_time.normalize(), freq="D")
    pd.DataFrame({"Date": days[[17, 18, 45, 100]].strftime("%-m/%-d/%Y"), "Sales Name": ["A", "A", "B", "C"]}).to_csv(
        folder / "SpecialSale.csv", index=False
    )
    firsts = [p.start_time.strftime("%-m/%-d/%Y") for p in periods]
    nps = pd.DataFrame({"Date": firsts, "NPS": rng.uniform(40, 60, months)})
    nps.to_csv(folder / "MonthlyNPSscore.csv", index=False)
    if weekly:
        n_weeks = (len(days) + 3) // 7 + 1
        rows = [
            {"week": w, "product_analytic_sub_category": s, "gmv": float(rng.uniform(1e6, 5e6))}
            for w in range(1, n_weeks + 1)
            for s in ("CameraAccessory", "HomeAudio")
        ]
        pd.DataFrame(rows).to_csv(folder / "weekly_gmv_by_subcategory.csv", index=False)
    else:
        orders = pd.DataFrame(
            {
                "order_date": rng.choice(days, 3000).astype("datetime64[s]").astype(str),
                "gmv": rng.uniform(100, 5000, 3000).round(0).astype(str),
                "product_analytic_category": rng.choice(["CameraAccessory", "EntertainmentSmall"], 3000),
                "product_analytic_sub_category": rng.choice(["CameraBattery", "Speaker"], 3000),
            }
        )
        orders.loc[:4, "gmv"] = " "  # the original file has blank gmv values
        orders.to_csv(folder / "ConsumerElectronics.csv", index=False)
    return folder


@pytest.fixture
def dtmart_dir(tmp_path):
    return write_dtmart(tmp_path / "dtmart")
