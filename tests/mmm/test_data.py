"""The DT-Mart loader on small files in the real layout, and its errors."""

import numpy as np
import pandas as pd
import pytest

from bayescausal.data.weekly import from_frame, load_dtmart, read_media, weekly_spend
from bayescausal.errors import DataError
from tests.conftest import shared_file
from tests.mmm.conftest import write_dtmart


def test_loads_weekly_layout(dtmart_dir):
    data = load_dtmart(dtmart_dir)
    f = data.frame
    expected = ["TV", "Digital", "Sponsorship", "ContentMarketing", "OnlineMarketing", "Affiliates", "SEM", "Radio"]
    assert data.channels == expected
    assert (f["date"].dt.dayofweek == 6).all()  # weeks start on Sunday, as in the DT-Mart weekly panel
    assert f["date"].is_monotonic_increasing and f["date"].diff().dropna().dt.days.eq(7).all()
    assert f["date"].min() >= pd.Timestamp("2015-07-01")  # the partial first week is left out
    assert {"sale_days", "nps", "trend"} <= set(data.controls)
    assert f["sale_days"].sum() == 4
    assert f["gmv"].between(0.1, 1.0).all()  # two sub-categories of 1e6..5e6 rupees = 0.2..1 crore
    grouped = load_dtmart(dtmart_dir, groups=["CameraAccessory", "HomeAudio"])
    assert grouped.group == "group" and len(grouped.frame) == 2 * len(f)


def test_spreading_conserves_spend():
    media = read_media_like()
    weeks = pd.date_range("2015-06-28", "2015-09-27", freq="7D")
    for rule in ("days", "sale-days"):
        spread = weekly_spend(media, weeks, rule, pd.DatetimeIndex(["2015-07-18", "2015-08-15"]))
        assert np.allclose(spread.sum(), media.sum())
    days = weekly_spend(media, weeks, "days", pd.DatetimeIndex([]))
    july_week = days.loc["2015-07-05", "TV"]
    assert july_week == pytest.approx(31.0 * 7 / 31)  # a full July week gets 7/31 of July's spend


def read_media_like():
    return pd.DataFrame({"TV": [31.0, 62.0, 30.0]}, index=pd.period_range("2015-07", periods=3, freq="M"))


def test_order_level_sales(tmp_path):
    data = load_dtmart(write_dtmart(tmp_path / "orders", weekly=False), groups=["CameraBattery", "Speaker"])
    assert set(data.frame["group"]) == {"CameraBattery", "Speaker"}
    assert "5 with unreadable gmv" in data.source


@pytest.mark.parametrize(
    "tweak, message",
    [
        (lambda m: m.assign(TV=-m["TV"]), "negative spend"),
        (lambda m: m.drop(index=4), r"missing month\(s\) \['2015-11'\]"),
        (lambda m: m.assign(SEM=0.0), r"\['SEM'\] have zero spend"),
        (lambda m: m.assign(TV=m["TV"].astype(str).str.replace("0", "x")), "non-numeric spend"),
    ],
)
def test_bad_media_is_named(tmp_path, tweak, message):
    with pytest.raises(DataError, match=message):
        load_dtmart(write_dtmart(tmp_path / "bad", tweak=tweak))


def test_misaligned_dates_and_missing_files(tmp_path):
    folder = write_dtmart(tmp_path / "short")
    media = pd.read_csv(folder / "MediaInvestment.csv").iloc[:6]
    media.to_csv(folder / "MediaInvestment.csv", index=False)
    with pytest.raises(DataError, match="outside the media months"):
        load_dtmart(folder)
    (folder / "weekly_gmv_by_subcategory.csv").unlink()
    with pytest.raises(DataError, match="neither"):
        load_dtmart(folder)
    with pytest.raises(DataError, match="not found"):
        load_dtmart(tmp_path / "nowhere")
    assert read_media(folder / "MediaInvestment.csv").index.freqstr == "M"


def test_from_frame_validation():
    dates = pd.date_range("2020-01-05", periods=60, freq="7D")
    frame = pd.DataFrame({"week": dates, "sales": 1.0, "tv": 1.0, "search": 2.0})
    data = from_frame(frame, date="week", target="sales", channels=["tv", "search"])
    assert list(data.frame.columns[:2]) == ["date", "sales"] and data.target == "sales"  # the user's own name
    with pytest.raises(DataError, match="zero spend"):
        from_frame(frame.assign(tv=0.0), date="week", target="sales", channels=["tv", "search"])
    with pytest.raises(DataError, match="negative spend"):
        from_frame(frame.assign(tv=-1.0), date="week", target="sales", channels=["tv", "search"])
    with pytest.raises(DataError, match="missing column"):
        from_frame(frame, date="week", target="revenue", channels=["tv"])
    with pytest.raises(DataError, match="missing or non-numeric"):
        from_frame(frame.assign(tv=np.nan), date="week", target="sales", channels=["tv"])


def test_real_dtmart_folder():
    folder = shared_file("dtmart", "MediaInvestment.csv").parent
    data = load_dtmart(folder, groups=["CameraAccessory", "GamingAccessory", "HomeAudio"])
    assert len(data.channels) == 9 and data.frame["date"].nunique() == 51
    assert "data_gap" in data.controls  # August 2015 has almost no sales rows
    spend = data.frame.groupby("date")[data.channels].first().sum()
    media = read_media(folder / "MediaInvestment.csv").sum()
    assert (spend <= media + 1e-9).all() and spend.sum() / media.sum() > 0.9  # partial edge weeks left out
